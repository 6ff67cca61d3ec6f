"""Where each party stored each component's model of a model version, and where a version came from."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from accord.errors import ConflictError, RecordNotFound
from accord.persistence.orm import JobRow, ModelRow, ModelVersionRow
from accord.persistence.records import ModelRecord, ModelVersionRecord, NewModelVersion
from accord.persistence.repositories._base import Repository, given, insert_ignore
from accord.status import JobStatus


def _version_key(model_id: str, model_version: str, role: str, party_id: int) -> list[ColumnElement[bool]]:
    return [
        ModelRow.model_id == model_id,
        ModelRow.model_version == model_version,
        ModelRow.role == role,
        ModelRow.party_id == party_id,
    ]


def _key(
    model_id: str, model_version: str, role: str, party_id: int, component_name: str
) -> list[ColumnElement[bool]]:
    return [*_version_key(model_id, model_version, role, party_id), ModelRow.component_name == component_name]


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
        model_id: str | None = None,
        *,
        model_version: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
        component_name: str | None = None,
    ) -> list[ModelRecord]:
        """Models, optionally narrowed; ordered by model id, version, role, party, component."""
        statement = (
            select(ModelRow)
            .where(
                *given(
                    (ModelRow.model_id, model_id),
                    (ModelRow.model_version, model_version),
                    (ModelRow.role, role),
                    (ModelRow.party_id, party_id),
                    (ModelRow.component_name, component_name),
                ),
            )
            .order_by(
                ModelRow.model_id,
                ModelRow.model_version,
                ModelRow.role,
                ModelRow.party_id,
                ModelRow.component_name,
            )
        )
        with self._db.session_scope() as session:
            return [_to_record(row) for row in session.scalars(statement)]

    def sealed(self, model_id: str, model_version: str, role: str, party_id: int) -> bool:
        """Whether a party's version may no longer change: its training job succeeded, or it was imported.

        A training job's id is its model version, so the job row is found by that id.
        """
        job = select(JobRow.status).where(
            JobRow.job_id == model_version, JobRow.role == role, JobRow.party_id == party_id
        )
        with self._db.session_scope() as session:
            if session.scalars(job).one_or_none() == JobStatus.SUCCESS.value:
                return True
            return _version_row(session, model_id, model_version, role, party_id) is not None

    def version(
        self, model_id: str, model_version: str, role: str, party_id: int
    ) -> ModelVersionRecord | None:
        """Where a party's version came from, if it did not come from a job of this site."""
        with self._db.session_scope() as session:
            row = _version_row(session, model_id, model_version, role, party_id)
            return None if row is None else _to_version_record(row)

    def replace_version(
        self,
        model_id: str,
        model_version: str,
        role: str,
        party_id: int,
        components: Mapping[str, tuple[str, str]],
        origin: NewModelVersion,
    ) -> list[ModelRecord]:
        """Make a party's version exactly ``components`` (name → storage, checksum), in one transaction.

        Returns the rows it replaced, so the caller can drop blobs no row points at any more.
        """
        now = self._clock()
        version = _version_key(model_id, model_version, role, party_id)
        with self._db.session_scope() as session:
            old = [_to_record(row) for row in session.scalars(select(ModelRow).where(*version))]
            session.execute(delete(ModelRow).where(*version))
            session.add_all(
                ModelRow(
                    model_id=model_id,
                    model_version=model_version,
                    role=role,
                    party_id=party_id,
                    component_name=name,
                    storage=storage,
                    checksum=checksum,
                    create_time=now,
                )
                for name, (storage, checksum) in components.items()
            )
            session.merge(
                ModelVersionRow(
                    model_id=model_id,
                    model_version=model_version,
                    role=role,
                    party_id=party_id,
                    source=origin.source,
                    job_type=origin.job_type,
                    job_status=origin.job_status,
                    dsl=origin.dsl,
                    runtime_conf=origin.runtime_conf,
                    party_plan=origin.party_plan,
                    manifest_sha256=origin.manifest_sha256,
                    create_time=now,
                )
            )
            return old

    def delete_version(
        self, model_id: str, model_version: str, role: str, party_id: int
    ) -> list[ModelRecord]:
        """Forget a party's version, its models and its origin; the rows that were removed."""
        version = _version_key(model_id, model_version, role, party_id)
        with self._db.session_scope() as session:
            removed = [_to_record(row) for row in session.scalars(select(ModelRow).where(*version))]
            session.execute(delete(ModelRow).where(*version))
            origin = _version_row(session, model_id, model_version, role, party_id)
            if origin is not None:
                session.delete(origin)
            return removed


def _version_row(
    session: Session, model_id: str, model_version: str, role: str, party_id: int
) -> ModelVersionRow | None:
    return session.get(ModelVersionRow, (model_id, model_version, role, party_id))


def _to_version_record(row: ModelVersionRow) -> ModelVersionRecord:
    return ModelVersionRecord(
        model_id=row.model_id,
        model_version=row.model_version,
        role=row.role,
        party_id=row.party_id,
        source=row.source,
        job_type=row.job_type,
        job_status=row.job_status,
        dsl=row.dsl,
        runtime_conf=row.runtime_conf,
        party_plan=row.party_plan,
        manifest_sha256=row.manifest_sha256,
        create_time=row.create_time,
    )


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
