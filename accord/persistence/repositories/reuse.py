"""What each party's successful task ran on and made (``task_outputs``), for reusing it later."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from accord.persistence.orm import TaskOutputRow, TaskRow
from accord.persistence.records import TaskKey
from accord.persistence.repositories._base import Repository, upsert
from accord.persistence.repositories.tasks import task_key
from accord.status import TaskStatus

_KEY = ("job_id", "component_name", "task_version", "role", "party_id")


@dataclass(frozen=True, slots=True)
class TaskOutputs:
    key: TaskKey
    module: str
    # None: the task cannot be reused (an input without a digest, a module never reused).
    fingerprint: str | None
    # ``data:NAME`` / ``cache:NAME`` / ``model`` → {"digest": sha256, "stat": [...] for files}.
    outputs: dict[str, Any]
    create_time: datetime


def _succeeded() -> Select[TaskOutputRow]:
    """Rows of tasks whose party recorded their success (a row is written before the success is)."""
    return (
        select(TaskOutputRow)
        .join(
            TaskRow,
            (TaskRow.job_id == TaskOutputRow.job_id)
            & (TaskRow.component_name == TaskOutputRow.component_name)
            & (TaskRow.task_version == TaskOutputRow.task_version)
            & (TaskRow.role == TaskOutputRow.role)
            & (TaskRow.party_id == TaskOutputRow.party_id),
        )
        .where(TaskRow.party_status == TaskStatus.SUCCESS.value)
    )


class TaskOutputRepository(Repository):
    def record(
        self, key: TaskKey, *, module: str, fingerprint: str | None, outputs: Mapping[str, Any]
    ) -> None:
        """Keep (or replace, for a retried activity) what the task ran on and made; its row must exist."""
        values: dict[str, Any] = {
            "job_id": key.job_id,
            "component_name": key.component_name,
            "task_version": key.task_version,
            "role": key.role,
            "party_id": key.party_id,
            "module": module,
            "fingerprint": fingerprint,
            "outputs": dict(outputs),
            "create_time": self._clock(),
        }
        with self._db.session_scope() as session:
            upsert(
                session,
                TaskOutputRow,
                values,
                keys=_KEY,
                set_=lambda new: {
                    "module": new.module,
                    "fingerprint": new.fingerprint,
                    "outputs": new.outputs,
                    "create_time": new.create_time,
                },
            )

    def get(self, key: TaskKey) -> TaskOutputs | None:
        with self._db.session_scope() as session:
            row = session.scalars(select(TaskOutputRow).where(*task_key(key, TaskOutputRow))).one_or_none()
            return None if row is None else _to_record(row)

    def newest_success(
        self, job_id: str, component_name: str, role: str, party_id: int
    ) -> TaskOutputs | None:
        """The newest successful version of a component of a job on a party: what its downstream reads."""
        statement = (
            _succeeded()
            .where(
                TaskOutputRow.job_id == job_id,
                TaskOutputRow.component_name == component_name,
                TaskOutputRow.role == role,
                TaskOutputRow.party_id == party_id,
            )
            .order_by(TaskOutputRow.task_version.desc())
            .limit(1)
        )
        with self._db.session_scope() as session:
            row = session.scalars(statement).one_or_none()
            return None if row is None else _to_record(row)

    def matching(
        self, fingerprint: str, role: str, party_id: int, *, exclude_job_id: str, limit: int
    ) -> list[TaskOutputs]:
        """Successful tasks of other jobs on the party with ``fingerprint``, newest first."""
        statement = (
            _succeeded()
            .where(
                TaskOutputRow.fingerprint == fingerprint,
                TaskOutputRow.role == role,
                TaskOutputRow.party_id == party_id,
                TaskOutputRow.job_id != exclude_job_id,
            )
            .order_by(TaskOutputRow.create_time.desc(), TaskOutputRow.job_id.desc())
            .limit(limit)
        )
        with self._db.session_scope() as session:
            return [_to_record(row) for row in session.scalars(statement)]


def _to_record(row: TaskOutputRow) -> TaskOutputs:
    return TaskOutputs(
        key=TaskKey(row.job_id, row.component_name, row.task_version, row.role, row.party_id),
        module=row.module,
        fingerprint=row.fingerprint,
        outputs=dict(row.outputs),
        create_time=row.create_time,
    )
