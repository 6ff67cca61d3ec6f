"""Task rows, one per (job_id, component_name, task_version, role, party_id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.errors import ArgumentError, RecordNotFound
from accord.persistence.orm import TaskOutputRow, TaskRow
from accord.persistence.records import NewTask, TaskKey, TaskRecord
from accord.persistence.repositories._base import (
    Repository,
    given,
    insert_ignore,
    rowcount,
    stamp_transition,
)
from accord.status import TaskStatus


def task_key(key: TaskKey, table: type[TaskRow] | type[TaskOutputRow] = TaskRow) -> list[ColumnElement[bool]]:
    """The row of ``table`` (tasks, or another table keyed by task) for ``key``."""
    return [
        table.job_id == key.job_id,
        table.component_name == key.component_name,
        table.task_version == key.task_version,
        table.role == key.role,
        table.party_id == key.party_id,
    ]


def _not_found(key: TaskKey) -> RecordNotFound:
    return RecordNotFound(
        f"job {key.job_id} has no task {key.component_name} version {key.task_version} "
        f"for {key.role} {key.party_id}",
        job_id=key.job_id,
        component_name=key.component_name,
        task_version=key.task_version,
        role=key.role,
        party_id=key.party_id,
    )


class TaskRepository(Repository):
    def create(self, task: NewTask) -> bool:
        """Insert a task row in ``waiting``; True if inserted, False if that version already existed.

        The party's job row must exist: tasks are deleted with their job.
        """
        if task.auto_retries < 0:
            raise ArgumentError(f"auto_retries cannot be negative, got {task.auto_retries}")
        key, now = task.key, self._clock()
        values: dict[str, Any] = {
            "job_id": key.job_id,
            "component_name": key.component_name,
            "task_version": key.task_version,
            "role": key.role,
            "party_id": key.party_id,
            "task_id": task.resolved_task_id,
            "status": TaskStatus.WAITING.value,
            "party_status": TaskStatus.WAITING.value,
            "auto_retries": task.auto_retries,
            "create_time": now,
            "update_time": now,
        }
        try:
            with self._db.session_scope() as session:
                return insert_ignore(session, TaskRow, values)
        except IntegrityError as error:
            # Duplicates never get here (ON CONFLICT); what is left is the foreign key to the job row.
            raise RecordNotFound(
                f"cannot create task {key.component_name} of job {key.job_id}: "
                f"the job has no row for {key.role} {key.party_id}",
                hint="create the party's job row first",
                job_id=key.job_id,
                role=key.role,
                party_id=key.party_id,
            ) from error

    def get(self, key: TaskKey) -> TaskRecord:
        with self._db.session_scope() as session:
            row = session.scalars(select(TaskRow).where(*task_key(key))).one_or_none()
            if row is None:
                raise _not_found(key)
            return to_record(row)

    def list_tasks(
        self,
        job_id: str,
        *,
        component_name: str | None = None,
        role: str | None = None,
        party_id: int | None = None,
    ) -> list[TaskRecord]:
        """Every version of every task of a job, optionally of one component and/or party."""
        statement = (
            select(TaskRow)
            .where(
                TaskRow.job_id == job_id,
                *given(
                    (TaskRow.component_name, component_name),
                    (TaskRow.role, role),
                    (TaskRow.party_id, party_id),
                ),
            )
            .order_by(TaskRow.component_name, TaskRow.task_version, TaskRow.role, TaskRow.party_id)
        )
        with self._db.session_scope() as session:
            return [to_record(row) for row in session.scalars(statement)]

    def recent(
        self, *, limit: int = 10, job_id: str | None = None, status: str | None = None
    ) -> list[TaskRecord]:
        """The newest task versions across jobs (FATE's ``flow task list``), of one job or status if given."""
        statement = (
            select(TaskRow)
            .where(*given((TaskRow.job_id, job_id), (TaskRow.status, status)))
            .order_by(TaskRow.create_time.desc(), TaskRow.job_id.desc(), TaskRow.component_name)
            .limit(limit)
        )
        with self._db.session_scope() as session:
            return [to_record(row) for row in session.scalars(statement)]

    def latest(self, job_id: str, *, component_name: str | None = None) -> list[TaskRecord]:
        """The newest task_version of each (component, role, party) of a job."""
        newest = (
            select(
                TaskRow.component_name,
                TaskRow.role,
                TaskRow.party_id,
                func.max(TaskRow.task_version).label("task_version"),
            )
            .where(TaskRow.job_id == job_id, *given((TaskRow.component_name, component_name)))
            .group_by(TaskRow.component_name, TaskRow.role, TaskRow.party_id)
            .subquery()
        )
        statement = (
            select(TaskRow)
            .join(
                newest,
                (TaskRow.component_name == newest.c.component_name)
                & (TaskRow.role == newest.c.role)
                & (TaskRow.party_id == newest.c.party_id)
                & (TaskRow.task_version == newest.c.task_version),
            )
            .where(TaskRow.job_id == job_id)
            .order_by(TaskRow.component_name, TaskRow.role, TaskRow.party_id)
        )
        with self._db.session_scope() as session:
            return [to_record(row) for row in session.scalars(statement)]

    def update_status(self, key: TaskKey, status: TaskStatus, *, with_party_status: bool = False) -> bool:
        """Move the task to ``status``; False when it already is there. Start/end times follow it.

        ``with_party_status`` moves the party's own view too, in the same transaction: what a party
        records about its own task. Raises :class:`~accord.errors.StatusTransitionError` for a move the
        transition table forbids.
        """
        with self._db.session_scope() as session:
            row = _lock(session, key)
            current = TaskStatus(row.status)
            if current == status:
                return False
            current.check_transition(status)
            if with_party_status and row.party_status != status.value:
                TaskStatus(row.party_status).check_transition(status)
                row.party_status = status.value
            row.status = status.value
            running = status == TaskStatus.RUNNING
            stamp_transition(row, running=running, end=status.is_end, now=self._clock())
            return True

    def update_party_status(self, key: TaskKey, status: TaskStatus) -> bool:
        """Like :meth:`update_status`, for this party's own view of the task; times are untouched."""
        with self._db.session_scope() as session:
            row = _lock(session, key)
            current = TaskStatus(row.party_status)
            if current == status:
                return False
            current.check_transition(status)
            row.party_status = status.value
            row.update_time = self._clock()
            return True

    def set_run_info(
        self,
        key: TaskKey,
        *,
        worker_id: str | None = None,
        run_id: str | None = None,
        run_ip: str | None = None,
        run_pid: int | None = None,
    ) -> None:
        """Record where the task runs; arguments left as None keep their stored value."""
        values = {
            name: value
            for name, value in (
                ("worker_id", worker_id),
                ("run_id", run_id),
                ("run_ip", run_ip),
                ("run_pid", run_pid),
            )
            if value is not None
        }
        self._update(key, **values)

    def set_error(self, key: TaskKey, error: str) -> None:
        """Keep the task's failure (what its report said) on its row."""
        self._update(key, error=error)

    def set_reused_from(self, key: TaskKey, source: str) -> None:
        """Say on the task's row which earlier run's outputs it took instead of running."""
        self._update(key, reused_from=source[:400])

    def set_progress(self, key: TaskKey, done: int, total: int, note: str = "") -> None:
        """The running task's own progress: ``done`` of ``total`` steps, and a short note (last loss)."""
        if total < 0 or done < 0 or (total and done > total):
            raise ArgumentError(f"task progress must be 0 <= done <= total, not {done} of {total}")
        self._update(key, progress_done=done, progress_total=total, progress_note=note[:200])

    def use_auto_retry(self, key: TaskKey) -> bool:
        """Spend one automatic retry; False when none are left.

        A single conditional UPDATE, so two workers failing at once cannot both spend the last one.
        """
        statement = (
            update(TaskRow)
            .where(*task_key(key), TaskRow.auto_retries > 0)
            .values(auto_retries=TaskRow.auto_retries - 1, update_time=self._clock())
            .execution_options(synchronize_session=False)
        )
        with self._db.session_scope() as session:
            if rowcount(session, statement) == 1:
                return True
            if session.scalar(select(TaskRow.auto_retries).where(*task_key(key))) is None:
                raise _not_found(key)
            return False

    def _update(self, key: TaskKey, **values: Any) -> None:
        statement = (
            update(TaskRow)
            .where(*task_key(key))
            .values(update_time=self._clock(), **values)
            .execution_options(synchronize_session=False)
        )
        with self._db.session_scope() as session:
            if rowcount(session, statement) == 0:
                raise _not_found(key)


def _lock(session: Session, key: TaskKey) -> TaskRow:
    row = session.scalars(select(TaskRow).where(*task_key(key)).with_for_update()).one_or_none()
    if row is None:
        raise _not_found(key)
    return row


def to_record(row: TaskRow) -> TaskRecord:
    return TaskRecord(
        key=TaskKey(row.job_id, row.component_name, row.task_version, row.role, row.party_id),
        task_id=row.task_id,
        status=TaskStatus(row.status),
        party_status=TaskStatus(row.party_status),
        worker_id=row.worker_id,
        run_id=row.run_id,
        run_ip=row.run_ip,
        run_pid=row.run_pid,
        auto_retries=row.auto_retries,
        create_time=row.create_time,
        update_time=row.update_time,
        start_time=row.start_time,
        end_time=row.end_time,
        elapsed_ms=row.elapsed_ms,
        error=row.error,
        progress_done=row.progress_done,
        progress_total=row.progress_total,
        progress_note=row.progress_note,
        reused_from=row.reused_from,
    )
