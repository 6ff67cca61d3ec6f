from __future__ import annotations

import pytest

from accord.errors import ArgumentError, RecordNotFound, ResourceInsufficient
from accord.persistence import Database, JobRepository, ResourceRepository

from .helpers import ManualClock, create_jobs


@pytest.fixture
def resources(database: Database, clock: ManualClock) -> ResourceRepository:
    create_jobs(database, "j1", "j2", "j3")
    return ResourceRepository(database, clock=clock)


def held(database: Database, job_id: str) -> tuple[bool, int, str | None]:
    job = JobRepository(database).get(job_id, "guest", 9999)
    return job.resource_in_use, job.cores, job.engine_name


def test_register_engine_creates_then_resizes_keeping_cores_in_use(
    resources: ResourceRepository, clock: ManualClock
) -> None:
    created = resources.register_engine("EGGROLL", 16, 2)
    assert (created.engine_type, created.total_cores, created.remaining_cores, created.nodes) == (
        "computing",
        16,
        16,
        2,
    )
    assert resources.apply("j1", "guest", 9999, "EGGROLL", 6)
    resized_at = clock.advance(minutes=1)
    resized = resources.register_engine("EGGROLL", 20, 3)
    assert (resized.total_cores, resized.remaining_cores, resized.nodes) == (20, 14, 3)
    assert (resized.create_time, resized.update_time) == (created.create_time, resized_at)
    shrunk = resources.register_engine("EGGROLL", 4, 1)
    assert (shrunk.total_cores, shrunk.remaining_cores) == (4, -2)
    assert not resources.apply("j2", "guest", 9999, "EGGROLL", 0)
    assert resources.return_resource("j1", "guest", 9999)
    assert resources.get_engine("EGGROLL").remaining_cores == 4


def test_engines_are_keyed_by_type_and_name(resources: ResourceRepository) -> None:
    resources.register_engine("STANDALONE", 8, 1)
    resources.register_engine("STANDALONE", 100, 1, engine_type="storage")
    assert [(e.engine_type, e.engine_name, e.total_cores) for e in resources.engines()] == [
        ("computing", "STANDALONE", 8),
        ("storage", "STANDALONE", 100),
    ]
    with pytest.raises(RecordNotFound):
        resources.get_engine("EGGROLL")
    with pytest.raises(ArgumentError):
        resources.register_engine("EGGROLL", -1, 1)


def test_apply_and_return_move_cores_between_engine_and_job(
    resources: ResourceRepository, database: Database
) -> None:
    resources.register_engine("EGGROLL", 10, 1)
    assert resources.apply("j1", "guest", 9999, "EGGROLL", 4)
    assert held(database, "j1") == (True, 4, "EGGROLL")
    assert resources.get_engine("EGGROLL").remaining_cores == 6
    assert resources.used_cores("EGGROLL") == 4

    assert resources.return_resource("j1", "guest", 9999)
    assert held(database, "j1") == (False, 4, "EGGROLL")
    assert resources.get_engine("EGGROLL").remaining_cores == 10
    assert resources.used_cores("EGGROLL") == 0


def test_applying_twice_takes_the_cores_once(resources: ResourceRepository, database: Database) -> None:
    resources.register_engine("EGGROLL", 10, 1)
    assert resources.apply("j1", "guest", 9999, "EGGROLL", 4)
    assert resources.apply("j1", "guest", 9999, "EGGROLL", 4)
    assert resources.apply("j1", "guest", 9999, "EGGROLL", 9)
    assert resources.get_engine("EGGROLL").remaining_cores == 6
    assert held(database, "j1") == (True, 4, "EGGROLL")


def test_returning_twice_gives_the_cores_back_once(resources: ResourceRepository) -> None:
    resources.register_engine("EGGROLL", 10, 1)
    resources.apply("j1", "guest", 9999, "EGGROLL", 4)
    assert resources.return_resource("j1", "guest", 9999)
    assert not resources.return_resource("j1", "guest", 9999)
    assert not resources.return_resource("j2", "guest", 9999)
    assert resources.get_engine("EGGROLL").remaining_cores == 10


def test_insufficient_cores_change_nothing_but_the_reason(
    resources: ResourceRepository, database: Database
) -> None:
    resources.register_engine("EGGROLL", 10, 1)
    assert resources.apply("j1", "guest", 9999, "EGGROLL", 7)
    assert not resources.apply("j2", "guest", 9999, "EGGROLL", 4)
    # The refused row records what it asked for, without holding it.
    assert held(database, "j2") == (False, 4, "EGGROLL")
    assert resources.used_cores("EGGROLL") == 7
    assert resources.get_engine("EGGROLL").remaining_cores == 3
    reason = JobRepository(database).get("j2", "guest", 9999).status_reason
    assert reason == "resources insufficient on guest 9999: 4 cores requested, 3 of 10 left on EGGROLL"

    with pytest.raises(ResourceInsufficient) as raised:
        resources.apply("j2", "guest", 9999, "EGGROLL", 4, raise_if_insufficient=True)
    assert raised.value.code == 10301
    assert raised.value.retryable
    assert raised.value.details["remaining_cores"] == 3
    assert resources.apply("j2", "guest", 9999, "EGGROLL", 3)
    assert resources.get_engine("EGGROLL").remaining_cores == 0


def test_apply_refuses_unknown_engines_jobs_and_negative_cores(
    resources: ResourceRepository, database: Database
) -> None:
    resources.register_engine("EGGROLL", 10, 1)
    with pytest.raises(RecordNotFound):
        resources.apply("j1", "guest", 9999, "SPARK", 1)
    assert held(database, "j1") == (False, 0, None)
    with pytest.raises(RecordNotFound):
        resources.apply("nope", "guest", 9999, "EGGROLL", 1)
    with pytest.raises(RecordNotFound):
        resources.return_resource("nope", "guest", 9999)
    with pytest.raises(ArgumentError):
        resources.apply("j1", "guest", 9999, "EGGROLL", -1)
    assert resources.get_engine("EGGROLL").remaining_cores == 10


def test_cores_return_to_the_engine_they_came_from(resources: ResourceRepository) -> None:
    resources.register_engine("EGGROLL", 10, 1)
    resources.register_engine("SPARK", 10, 1)
    resources.apply("j1", "guest", 9999, "SPARK", 5)
    resources.return_resource("j1", "guest", 9999)
    assert [e.remaining_cores for e in resources.engines()] == [10, 10]
