"""Builders shared by the persistence tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from accord.persistence import Database, JobRepository, NewJob


class ManualClock:
    """A clock that moves only when told, so times and durations can be asserted exactly."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def new_job(job_id: str, role: str = "guest", party_id: int = 9999, **overrides: Any) -> NewJob:
    job = NewJob(
        job_id=job_id,
        role=role,
        party_id=party_id,
        initiator_role="guest",
        initiator_party_id=9999,
        dsl={"components": {"reader_0": {"module": "Reader"}}},
        runtime_conf={"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999}},
        is_initiator=role == "guest",
    )
    return replace(job, **overrides)


def create_jobs(db: Database, *job_ids: str, role: str = "guest", party_id: int = 9999) -> None:
    repository = JobRepository(db)
    for job_id in job_ids:
        repository.create(new_job(job_id, role, party_id))
