"""Resource accounting under concurrent callers and arbitrary operation sequences."""

from __future__ import annotations

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from accord.persistence import Database, JobRepository, ResourceRepository
from accord.persistence.orm import EngineResourceRow, JobRow

from .helpers import create_jobs

THREADS = 8
OPERATIONS = 50
TOTAL_CORES = 24


def snapshot(db: Database, engine_name: str) -> tuple[int, int]:
    """(remaining, held by jobs) read in one statement, so both come from the same moment."""
    held = (
        select(func.coalesce(func.sum(JobRow.cores), 0))
        .where(JobRow.resource_in_use.is_(True), JobRow.engine_name == engine_name)
        .scalar_subquery()
    )
    statement = select(EngineResourceRow.remaining_cores, held).where(
        EngineResourceRow.engine_name == engine_name
    )
    with db.session_scope() as session:
        remaining, used = session.execute(statement).one()
        return int(remaining), int(used)


def test_concurrent_apply_and_return_never_oversubscribe(database: Database) -> None:
    resources = ResourceRepository(database)
    resources.register_engine("EGGROLL", TOTAL_CORES, 2)
    # Fewer jobs than threads times operations, so threads race on the same job rows too.
    job_ids = [f"job{i}" for i in range(12)]
    create_jobs(database, *job_ids)

    start = threading.Barrier(THREADS + 1)
    done = threading.Event()
    snapshots: list[tuple[int, int]] = []

    def worker(seed: int) -> tuple[int, int]:
        rng, applied, returned = random.Random(seed), 0, 0
        start.wait()
        for _ in range(OPERATIONS):
            job_id = rng.choice(job_ids)
            if rng.random() < 0.6:
                applied += resources.apply(job_id, "guest", 9999, "EGGROLL", rng.randint(1, 8))
            else:
                returned += resources.return_resource(job_id, "guest", 9999)
        return applied, returned

    def monitor() -> None:
        start.wait()
        while not done.is_set():
            snapshots.append(snapshot(database, "EGGROLL"))

    watcher = threading.Thread(target=monitor)
    watcher.start()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = [future.result() for future in [pool.submit(worker, seed) for seed in range(THREADS)]]
    finally:
        done.set()
        watcher.join()

    assert sum(returned for _, returned in outcomes) > 0
    assert sum(applied for applied, _ in outcomes) > 0
    assert snapshots, "the monitor never saw the engine"
    for remaining, used in snapshots:
        assert 0 <= remaining <= TOTAL_CORES
        assert remaining + used == TOTAL_CORES

    remaining, used = snapshot(database, "EGGROLL")
    assert remaining >= 0 and remaining + used == TOTAL_CORES
    holders = [j for j in JobRepository(database).list_jobs(limit=100) if j.resource_in_use]
    assert sum(j.cores for j in holders) == used
    for job in holders:
        assert resources.return_resource(job.job_id, "guest", 9999)
    assert resources.get_engine("EGGROLL").remaining_cores == TOTAL_CORES


JOBS = 4
operation = st.one_of(
    st.tuples(st.just("apply"), st.integers(0, JOBS - 1), st.integers(0, 7)),
    st.tuples(st.just("return"), st.integers(0, JOBS - 1), st.just(0)),
    st.tuples(st.just("resize"), st.just(0), st.integers(0, 12)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, max_size=15))
def test_apply_and_return_match_a_simple_model(
    database: Database, operations: list[tuple[str, int, int]]
) -> None:
    # The database outlives examples, so each example works on its own engine and jobs.
    run = uuid.uuid4().hex[:10]
    engine = f"E{run}"
    job_ids = [f"{run}-{i}" for i in range(JOBS)]
    resources = ResourceRepository(database)
    create_jobs(database, *job_ids)
    total = 10
    resources.register_engine(engine, total, 1)
    holding: dict[int, int] = {}
    # Refused jobs keep their turn (the real clock stays well inside TURN_KEPT_S here): a younger job
    # must leave what every older refused job asked for, unless that could never fit the engine.
    refused: dict[int, int] = {}

    for kind, job, cores in operations:
        job_id = job_ids[job]
        if kind == "apply":
            ahead = sum(need for older, need in refused.items() if older < job and need <= total)
            expected = job in holding or total - sum(holding.values()) >= cores + ahead
            assert resources.apply(job_id, "guest", 9999, engine, cores) == expected
            if expected:
                holding.setdefault(job, cores)
                refused.pop(job, None)
            else:
                refused[job] = cores
        elif kind == "return":
            assert resources.return_resource(job_id, "guest", 9999) == (job in holding)
            holding.pop(job, None)
            refused.pop(job, None)
        else:
            total = cores
            resources.register_engine(engine, total, 1)
        assert snapshot(database, engine) == (total - sum(holding.values()), sum(holding.values()))
