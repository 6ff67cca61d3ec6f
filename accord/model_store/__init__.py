"""Models components produce, per (model_id, model_version, role, party id, component)."""

from accord.model_store.service import ModelService, ModelVersionInfo
from accord.model_store.signing import ArchiveSigning, Signer
from accord.model_store.storage import LocalDirectoryStorage, ModelStorage
from accord.model_store.store import ModelKey, ModelStore, VersionKey

__all__ = [
    "ArchiveSigning",
    "LocalDirectoryStorage",
    "ModelKey",
    "ModelService",
    "ModelStorage",
    "ModelStore",
    "ModelVersionInfo",
    "Signer",
    "VersionKey",
]
