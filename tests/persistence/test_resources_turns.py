"""Older jobs keep their turn for an engine's cores: younger jobs may only backfill around them."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from accord.errors import ResourceInsufficient
from accord.persistence import Database, JobRepository, ResourceRepository
from accord.persistence.orm import JobRow
from accord.persistence.repositories.jobs import job_key
from accord.persistence.repositories.turns import TURN_KEPT_S
from accord.status import JobStatus

from .helpers import ManualClock, create_jobs

HOST = 10000


@pytest.fixture
def resources(database: Database, clock: ManualClock) -> ResourceRepository:
    # Job ids sort by age, as real ones do (they start with their submit time).
    create_jobs(database, "j0", "j1", "j2", "j3", "j4")
    repository = ResourceRepository(database, clock=clock)
    repository.register_engine("EGGROLL", 16, 1)
    return repository


def apply(resources: ResourceRepository, job_id: str, cores: int, *, party_id: int = 9999) -> bool:
    role = "guest" if party_id == 9999 else "host"
    return resources.apply(job_id, role, party_id, "EGGROLL", cores)


def refused_at(database: Database, job_id: str, party_id: int = 9999) -> datetime | None:
    role = "guest" if party_id == 9999 else "host"
    with database.session_scope() as session:
        return session.scalar(select(JobRow.cores_refused_at).where(*job_key(job_id, role, party_id)))


def remaining(resources: ResourceRepository) -> int:
    return resources.get_engine("EGGROLL").remaining_cores


def refuse_j1_for_8_cores(resources: ResourceRepository) -> None:
    """j0 runs on 10 of 16 cores, so j1's 8 are refused; then j0 ends and gives its cores back."""
    assert apply(resources, "j0", 10)
    assert not apply(resources, "j1", 8)
    assert resources.return_resource("j0", "guest", 9999)
    assert remaining(resources) == 16


def test_an_older_refused_job_blocks_a_younger_one_that_would_leave_too_few(
    resources: ResourceRepository, database: Database, clock: ManualClock
) -> None:
    refuse_j1_for_8_cores(resources)
    assert refused_at(database, "j1") == clock.now
    clock.advance(seconds=5)

    # 16 - 10 leaves 6, fewer than j1's 8: nothing is taken, and j2 waits behind j1 (its turn recorded too).
    assert not apply(resources, "j2", 10)
    assert remaining(resources) == 16
    job = JobRepository(database).get("j2", "guest", 9999)
    assert (job.resource_in_use, job.cores, job.engine_name) == (False, 10, "EGGROLL")
    assert job.status_reason.startswith("waiting behind older job j1 for 10 cores on EGGROLL")
    assert refused_at(database, "j2") == clock.now
    with pytest.raises(ResourceInsufficient) as raised:
        resources.apply("j2", "guest", 9999, "EGGROLL", 10, raise_if_insufficient=True)
    assert raised.value.details["waiting_behind"] == "j1"


def test_a_younger_job_that_fits_beside_the_older_one_backfills(
    resources: ResourceRepository, database: Database
) -> None:
    refuse_j1_for_8_cores(resources)
    assert apply(resources, "j2", 8)
    assert refused_at(database, "j2") is None
    # Now every younger job must leave j1's 8 of the 8 left.
    assert not apply(resources, "j3", 1)
    assert apply(resources, "j1", 8)
    assert refused_at(database, "j1") is None
    assert remaining(resources) == 0


def test_the_needs_of_every_older_waiting_job_are_summed(resources: ResourceRepository) -> None:
    assert apply(resources, "j0", 14)
    assert not apply(resources, "j1", 5)
    assert not apply(resources, "j2", 6)
    assert resources.return_resource("j0", "guest", 9999)
    # 16 - 5 - 6 leaves 5: j3 may take that much, not more.
    assert not apply(resources, "j3", 6)
    assert apply(resources, "j3", 5)
    assert apply(resources, "j1", 5)
    assert apply(resources, "j2", 6)


def test_once_the_older_job_has_its_cores_a_younger_one_that_fits_is_granted(
    resources: ResourceRepository,
) -> None:
    assert apply(resources, "j0", 10)
    assert not apply(resources, "j1", 8)
    assert not apply(resources, "j2", 4)
    assert resources.return_resource("j0", "guest", 9999)
    assert apply(resources, "j1", 8)
    assert apply(resources, "j2", 4)
    assert remaining(resources) == 4


def test_a_refusal_older_than_the_window_no_longer_blocks(
    resources: ResourceRepository, clock: ManualClock
) -> None:
    assert apply(resources, "j0", 10)
    assert not apply(resources, "j1", 8)
    # While j1 keeps asking, at the workflow's slowest pace, it keeps its turn.
    for _ in range(3):
        clock.advance(seconds=30)
        assert not apply(resources, "j2", 4)
        assert not apply(resources, "j1", 8)
    clock.advance(seconds=TURN_KEPT_S - 1)
    assert not apply(resources, "j2", 4)
    # j1 stopped asking: its turn is gone.
    clock.advance(seconds=2)
    assert apply(resources, "j2", 4)


def test_an_older_job_that_could_never_fit_blocks_no_one(resources: ResourceRepository) -> None:
    assert not apply(resources, "j1", 17)
    assert apply(resources, "j2", 16)


@pytest.mark.parametrize("status", [JobStatus.CANCELED, JobStatus.FAILED, JobStatus.PAUSED])
def test_an_ended_or_paused_older_job_no_longer_blocks(
    resources: ResourceRepository, database: Database, status: JobStatus
) -> None:
    refuse_j1_for_8_cores(resources)
    assert not apply(resources, "j2", 10)
    JobRepository(database).update_status("j1", "guest", 9999, status)
    assert apply(resources, "j2", 10)


def test_returning_gives_up_the_turn(resources: ResourceRepository, database: Database) -> None:
    refuse_j1_for_8_cores(resources)
    assert not resources.return_resource("j1", "guest", 9999)
    assert refused_at(database, "j1") is None
    assert apply(resources, "j2", 10)


def test_a_jobs_own_parties_do_not_block_each_other(
    resources: ResourceRepository, database: Database
) -> None:
    create_jobs(database, "j1", "j2", role="host", party_id=HOST)
    refuse_j1_for_8_cores(resources)
    # j1's host takes what leaves less than its guest asked for: they are one job, not competitors.
    assert apply(resources, "j1", 12, party_id=HOST)
    resources.return_resource("j1", "host", HOST)
    assert refused_at(database, "j1", HOST) is None
    # A party granted and handed back because another was refused still counts in its job's need:
    # j1 now needs 8 + 12 of 16, more than the engine has, so it holds no one back ...
    assert apply(resources, "j2", 8)
    resources.return_resource("j2", "guest", 9999)
    # ... while a host that fits beside its guest keeps room for both.
    assert apply(resources, "j1", 4, party_id=HOST)
    resources.return_resource("j1", "host", HOST)
    assert not apply(resources, "j2", 5)
    assert not apply(resources, "j2", 5, party_id=HOST)
    assert apply(resources, "j2", 4)
