"""Models components produce, per (model_id, model_version, role, party id, component)."""

from accord.model_store.store import ModelKey, ModelStore

__all__ = ["ModelKey", "ModelStore"]
