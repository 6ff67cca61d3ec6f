"""The board's read-only queries on the site database: a filtered, paged job list and a change marker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.orm import Session

from accord.persistence.orm import JobRow, TaskRow
from accord.persistence.records import TaskRecord
from accord.persistence.repositories._base import Repository
from accord.persistence.repositories.tasks import to_record
from accord.site.progress import job_progress
from accord.status import JobStatus

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class JobFilter:
    """What the job list shows; every field optional. ``search`` matches a job id's part."""

    status: str | None = None
    role: str | None = None
    party_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    component: str | None = None
    # The parties this site hosts (cluster mode): a board shows no other party's row.
    parties: tuple[int, ...] = ()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class BoardQueries(Repository):
    def _conditions(self, wanted: JobFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if wanted.status:
            conditions.append(JobRow.status == wanted.status)
        if wanted.role:
            conditions.append(JobRow.role == wanted.role)
        if wanted.party_id is not None:
            conditions.append(JobRow.party_id == wanted.party_id)
        if wanted.parties:
            conditions.append(JobRow.party_id.in_(wanted.parties))
        if wanted.since is not None:
            conditions.append(JobRow.create_time >= wanted.since)
        if wanted.until is not None:
            conditions.append(JobRow.create_time < wanted.until)
        if wanted.search:
            conditions.append(JobRow.job_id.like(_like(wanted.search), escape="\\"))
        if wanted.component:
            # The DSL's text names each component as a key: "name": {...}. Both SQLite and PostgreSQL
            # cast JSON to its text, so this stays one indexed scan of the page's rows.
            pattern = _like(f'"{wanted.component}')
            conditions.append(cast(JobRow.dsl, String).like(pattern, escape="\\"))
        return conditions

    def page(self, wanted: JobFilter, *, page: int, size: int) -> tuple[int, list[dict[str, Any]]]:
        """(total matching rows, the rows of one page, newest first)."""
        size = max(1, min(size, MAX_PAGE_SIZE))
        conditions = self._conditions(wanted)
        columns = (
            JobRow.job_id,
            JobRow.role,
            JobRow.party_id,
            JobRow.status,
            JobRow.status_reason,
            JobRow.is_initiator,
            JobRow.progress,
            JobRow.create_time,
            JobRow.start_time,
            JobRow.end_time,
            JobRow.elapsed_ms,
            JobRow.description,
            JobRow.dsl,
        )
        statement = (
            select(*columns)
            .where(*conditions)
            .order_by(JobRow.create_time.desc(), JobRow.job_id.desc(), JobRow.role, JobRow.party_id)
            .limit(size)
            .offset(max(0, page - 1) * size)
        )
        with self._db.session_scope() as session:
            total = session.scalar(select(func.count()).select_from(JobRow).where(*conditions)) or 0
            rows = [dict(row._mapping) for row in session.execute(statement)]
            tasks = self._tasks(session, {row["job_id"] for row in rows})
        for row in rows:
            components = len((row.pop("dsl") or {}).get("components", {}))
            # As `job query` counts it: finished components, plus the running ones' own progress.
            mine = tasks.get((row["job_id"], row["role"], row["party_id"]), [])
            counted = job_progress(mine, components, JobStatus(row["status"]))
            row["progress"] = max(row["progress"] or 0, counted)
        return int(total), rows

    def _tasks(self, session: Session, job_ids: set[str]) -> dict[tuple[str, str, int], list[TaskRecord]]:
        """Each party's task rows, for the jobs of one page."""
        found: dict[tuple[str, str, int], list[TaskRecord]] = {}
        if job_ids:
            for task in session.scalars(select(TaskRow).where(TaskRow.job_id.in_(job_ids))):
                found.setdefault((task.job_id, task.role, task.party_id), []).append(to_record(task))
        return found

    def marker(self, parties: tuple[int, ...] = ()) -> str:
        """Changes whenever a job or task row of these parties is added or updated: the list's live signal.

        Task rows count too: a running task's progress moves the job's without touching the job row.
        """
        statement = select(func.count(), func.max(JobRow.update_time), func.sum(JobRow.progress))
        tasks = select(func.max(TaskRow.update_time))
        if parties:
            statement = statement.where(JobRow.party_id.in_(parties))
            tasks = tasks.where(TaskRow.party_id.in_(parties))
        with self._db.session_scope() as session:
            count, newest, progress = session.execute(statement).one()
            task_newest = session.scalar(tasks)
        return f"{count}/{newest}/{progress}/{task_newest}"
