"""Where each party stored each component's model of a model version."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from accord.errors import ConflictError, RecordNotFound
from accord.persistence.orm import ModelRow
from accord.persistence.records import ModelRecord
from accord.persistence.repositories._base import Repository, given, insert_ignore


def _key(
    model_id: str, model_version: str, role: str, party_id: int, component_name: str
) -> list[ColumnElement[bool]]:
    return [
        ModelRow.model_id == model_id,
        ModelRow.model_version == model_version,
        ModelRow.role == role,
        ModelRow.party_id == party_id,
        ModelRow.component_name == component_name,
    ]


class ModelRepository(Repository):
    def save(
        self,
        model_id: str,
        model_version: str,
        role: str,
        party_id: int,
        component_name: str,
        *,
        storage: str,
        checksum: str,
        replace: bool = False,
    ) -> bool:
        """Record a stored model; True if new, False if this exact model was already recorded.

        A model version is immutable, so the same key with another storage or checksum is a
        :class:`~accord.errors.ConflictError` rather than an overwrite, unless ``replace`` says the
        version is still being made (a task of its training job ran again).
        """
        values = {
            "model_id": model_id,
            "model_version": model_version,
            "role": role,
            "party_id": party_id,
            "component_name": component_name,
            "storage": storage,
            "checksum": checksum,
            "create_time": self._clock(),
        }
        key = _key(model_id, model_version, role, party_id, component_name)
        with self._db.session_scope() as session:
            if insert_ignore(session, ModelRow, values):
                return True
            stored = session.scalars(select(ModelRow).where(*key)).one()
            if replace:
                stored.storage, stored.checksum = storage, checksum
                return False
            if (stored.storage, stored.checksum) != (storage, checksum):
                raise ConflictError(
                    f"model {model_id} version {model_version} of {component_name} on {role} {party_id} "
                    f"is already stored at {stored.storage} with checksum {stored.checksum}",
                    hint="model versions are immutable; save under a new model_version",
                    model_id=model_id,
                    model_version=model_version,
                )
            return False

    def get(
        self, model_id: str, model_version: str, role: str, party_id: int, component_name: str
    ) -> ModelRecord:
        key = _key(model_id, model_version, role, party_id, component_name)
        with self._db.session_scope() as session:
            row = session.scalars(select(ModelRow).where(*key)).one_or_none()
            if row is None:
                raise RecordNotFound(
                    f"no model {model_id} version {model_version} of {component_name} on {role} {party_id}",
                    hint="check the model id and version",
                    model_id=model_id,
                    model_version=model_version,
                )
            return _to_record(row)

    def find(
        self,
        model_id: str,
        *,
        model_version: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
        component_name: str | None = None,
    ) -> list[ModelRecord]:
        """Models of a model id, optionally narrowed; ordered by version, role, party, component."""
        statement = (
            select(ModelRow)
            .where(
                ModelRow.model_id == model_id,
                *given(
                    (ModelRow.model_version, model_version),
                    (ModelRow.role, role),
                    (ModelRow.party_id, party_id),
                    (ModelRow.component_name, component_name),
                ),
            )
            .order_by(ModelRow.model_version, ModelRow.role, ModelRow.party_id, ModelRow.component_name)
        )
        with self._db.session_scope() as session:
            return [_to_record(row) for row in session.scalars(statement)]


def _to_record(row: ModelRow) -> ModelRecord:
    return ModelRecord(
        model_id=row.model_id,
        model_version=row.model_version,
        role=row.role,
        party_id=row.party_id,
        component_name=row.component_name,
        storage=row.storage,
        checksum=row.checksum,
        create_time=row.create_time,
    )
