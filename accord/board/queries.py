"""The board's read-only queries on the site database: a filtered, paged job list and a change marker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, distinct, func, select
from sqlalchemy.orm import Session

from accord.persistence.orm import JobRow, TaskRow
from accord.persistence.repositories._base import Repository

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
            done = self._done(session, {row["job_id"] for row in rows})
        for row in rows:
            components = len((row.pop("dsl") or {}).get("components", {}))
            if not row["progress"] and components:
                # The share of the party's graph done, where the scheduler recorded no progress itself.
                finished = done.get((row["job_id"], row["role"], row["party_id"]), 0)
                row["progress"] = round(100 * finished / components)
        return int(total), rows

    def _done(self, session: Session, job_ids: set[str]) -> dict[tuple[str, str, int], int]:
        """Components each party has finished (any version), for the jobs of one page."""
        if not job_ids:
            return {}
        statement = (
            select(
                TaskRow.job_id, TaskRow.role, TaskRow.party_id, func.count(distinct(TaskRow.component_name))
            )
            .where(TaskRow.job_id.in_(job_ids), TaskRow.party_status.in_(("success", "pass")))
            .group_by(TaskRow.job_id, TaskRow.role, TaskRow.party_id)
        )
        return {(job, role, party): int(n) for job, role, party, n in session.execute(statement)}

    def marker(self, parties: tuple[int, ...] = ()) -> str:
        """Changes whenever a job row of these parties is added or updated: the list's live signal."""
        statement = select(func.count(), func.max(JobRow.update_time), func.sum(JobRow.progress))
        if parties:
            statement = statement.where(JobRow.party_id.in_(parties))
        with self._db.session_scope() as session:
            count, newest, progress = session.execute(statement).one()
        return f"{count}/{newest}/{progress}"
