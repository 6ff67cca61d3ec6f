"""Job rows, one per (job_id, role, party_id)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from accord.errors import ArgumentError, RecordNotFound
from accord.persistence.orm import JobRow
from accord.persistence.records import JobRecord, NewJob
from accord.persistence.repositories._base import (
    Repository,
    given,
    insert_ignore,
    rowcount,
    stamp_transition,
)
from accord.status import JobStatus


def job_key(job_id: str, role: str, party_id: int) -> list[ColumnElement[bool]]:
    return [JobRow.job_id == job_id, JobRow.role == role, JobRow.party_id == party_id]


def job_not_found(job_id: str, role: str, party_id: int) -> RecordNotFound:
    return RecordNotFound(
        f"job {job_id} has no row for {role} {party_id}",
        hint="check the job id, role and party id",
        job_id=job_id,
        role=role,
        party_id=party_id,
    )


class JobRepository(Repository):
    def create(self, job: NewJob) -> bool:
        """Insert one party's job row in ``waiting``; True if inserted, False if it already existed.

        Retries of the creating activity are expected, so an existing row is kept as it is.
        """
        now = self._clock()
        values: dict[str, Any] = {
            "job_id": job.job_id,
            "role": job.role,
            "party_id": job.party_id,
            "status": JobStatus.WAITING.value,
            "status_reason": "",
            "is_initiator": job.is_initiator,
            "initiator_role": job.initiator_role,
            "initiator_party_id": job.initiator_party_id,
            "dsl": job.dsl,
            "runtime_conf": job.runtime_conf,
            "plan": job.plan,
            "model_id": job.model_id,
            "model_version": job.model_version,
            "cores": 0,
            "resource_in_use": False,
            "progress": 0,
            "description": job.description,
            "create_time": now,
            "update_time": now,
        }
        with self._db.session_scope() as session:
            return insert_ignore(session, JobRow, values)

    def get(self, job_id: str, role: str, party_id: int) -> JobRecord:
        with self._db.session_scope() as session:
            row = session.scalars(select(JobRow).where(*job_key(job_id, role, party_id))).one_or_none()
            if row is None:
                raise job_not_found(job_id, role, party_id)
            return to_record(row)

    def parties(
        self, job_id: str, *, role: str | None = None, party_id: int | None = None
    ) -> list[JobRecord]:
        """Every party's row of one job, or those of one role and/or party; empty if none."""
        statement = (
            select(JobRow)
            .where(JobRow.job_id == job_id, *given((JobRow.role, role), (JobRow.party_id, party_id)))
            .order_by(JobRow.role, JobRow.party_id)
        )
        with self._db.session_scope() as session:
            return [to_record(row) for row in session.scalars(statement)]

    def statuses(self, job_id: str) -> dict[tuple[str, int], JobStatus]:
        """(role, party id) → status of each of this site's rows of one job; light, no JSON columns."""
        statement = select(JobRow.role, JobRow.party_id, JobRow.status).where(JobRow.job_id == job_id)
        with self._db.session_scope() as session:
            return {
                (role, party_id): JobStatus(status) for role, party_id, status in session.execute(statement)
            }

    def ended_at(self, job_ids: Iterable[str]) -> dict[str, datetime | None]:
        """For each given job with rows here: when its last row here ended, or None while one has not.

        Jobs without a row here are left out.
        """
        wanted = list(dict.fromkeys(job_ids))
        found: dict[str, datetime | None] = {}
        # Bounded IN lists: a sweep may ask about many jobs at once.
        for start in range(0, len(wanted), 500):
            statement = select(JobRow.job_id, JobRow.status, JobRow.end_time, JobRow.update_time).where(
                JobRow.job_id.in_(wanted[start : start + 500])
            )
            with self._db.session_scope() as session:
                for job_id, status, end_time, update_time in session.execute(statement):
                    ended = end_time or update_time
                    if not JobStatus(status).is_end:
                        found[job_id] = None
                    elif job_id not in found:
                        found[job_id] = ended
                    elif (previous := found[job_id]) is not None:
                        found[job_id] = max(previous, ended)
        return found

    def list_jobs(
        self,
        *,
        status: JobStatus | Iterable[JobStatus] | None = None,
        role: str | None = None,
        party_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[JobRecord]:
        """Job rows, newest first."""
        conditions = given((JobRow.role, role), (JobRow.party_id, party_id))
        if isinstance(status, JobStatus):
            conditions.append(JobRow.status == status.value)
        elif status is not None:
            conditions.append(JobRow.status.in_([s.value for s in status]))
        statement = (
            select(JobRow)
            .where(*conditions)
            .order_by(JobRow.create_time.desc(), JobRow.job_id.desc(), JobRow.role, JobRow.party_id)
            .limit(limit)
            .offset(offset)
        )
        with self._db.session_scope() as session:
            return [to_record(row) for row in session.scalars(statement)]

    def update_status(
        self, job_id: str, role: str, party_id: int, status: JobStatus, *, reason: str = ""
    ) -> bool:
        """Move one party's job to ``status``; False when it already is there (nothing changes).

        Raises :class:`~accord.errors.StatusTransitionError` for a move the transition table forbids.
        A real move replaces ``status_reason`` with ``reason``: the old reason described the old status.
        """
        with self._db.session_scope() as session:
            row = lock(session, job_id, role, party_id)
            current = JobStatus(row.status)
            if current == status:
                return False
            current.check_transition(status)
            row.status = status.value
            row.status_reason = reason
            running = status == JobStatus.RUNNING
            stamp_transition(row, running=running, end=status.is_end, now=self._clock())
            return True

    def set_status_reason(self, job_id: str, role: str, party_id: int, reason: str) -> None:
        self._update(job_id, role, party_id, status_reason=reason)

    def set_progress(self, job_id: str, role: str, party_id: int, progress: int) -> None:
        if not 0 <= progress <= 100:
            raise ArgumentError(f"job progress must be between 0 and 100, not {progress}")
        self._update(job_id, role, party_id, progress=progress)

    def set_plan(self, job_id: str, role: str, party_id: int, plan: dict[str, Any]) -> None:
        self._update(job_id, role, party_id, plan=plan)

    def set_conf(
        self, job_id: str, role: str, party_id: int, runtime_conf: dict[str, Any], plan: dict[str, Any]
    ) -> None:
        """A parameter update: the runtime conf and the plan compiled from it, together."""
        self._update(job_id, role, party_id, runtime_conf=runtime_conf, plan=plan)

    def _update(self, job_id: str, role: str, party_id: int, **values: Any) -> None:
        statement = (
            update(JobRow)
            .where(*job_key(job_id, role, party_id))
            .values(update_time=self._clock(), **values)
            .execution_options(synchronize_session=False)
        )
        with self._db.session_scope() as session:
            if rowcount(session, statement) == 0:
                raise job_not_found(job_id, role, party_id)


def lock(session: Session, job_id: str, role: str, party_id: int) -> JobRow:
    """Load a job row locked for this transaction (SQLite's IMMEDIATE transaction already is)."""
    statement = select(JobRow).where(*job_key(job_id, role, party_id)).with_for_update()
    row = session.scalars(statement).one_or_none()
    if row is None:
        raise job_not_found(job_id, role, party_id)
    return row


def to_record(row: JobRow) -> JobRecord:
    return JobRecord(
        job_id=row.job_id,
        role=row.role,
        party_id=row.party_id,
        status=JobStatus(row.status),
        status_reason=row.status_reason,
        is_initiator=row.is_initiator,
        initiator_role=row.initiator_role,
        initiator_party_id=row.initiator_party_id,
        dsl=row.dsl,
        runtime_conf=row.runtime_conf,
        plan=row.plan,
        model_id=row.model_id,
        model_version=row.model_version,
        engine_type=row.engine_type,
        engine_name=row.engine_name,
        cores=row.cores,
        resource_in_use=row.resource_in_use,
        progress=row.progress,
        description=row.description,
        create_time=row.create_time,
        update_time=row.update_time,
        start_time=row.start_time,
        end_time=row.end_time,
        elapsed_ms=row.elapsed_ms,
    )
