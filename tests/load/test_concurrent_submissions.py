"""100 small two-party jobs submitted at once to one real standalone stack: each ends once, none lost.

The stack is real (Temporal dev server, ``python -m accord server`` and ``python -m accord worker`` as
OS processes, SQLite on disk) and runs the scheduling tests' components, so each job is cheap and the
load is all scheduling: the HTTP API, the site's job queue (max_concurrent_jobs is below the number of
jobs, so most wait their turn), resource reservation, the party workflows and the federation between
them. The scenario is ``bench/load.py``'s; this test asserts what the bench only counts.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from accord.persistence import Database
from accord.standalone.stack import Stack
from accord.temporal_client import connect
from bench.load import COMPONENTS, PARTIES, LoadReport, check, load_settings, submit_all
from tests.chaos.site import ChaosSite, child_environment

pytestmark = pytest.mark.load

JOBS = 100
MAX_CONCURRENT_JOBS = 20


@pytest.fixture
def load_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChaosSite]:
    calls_dir = tmp_path / "calls"
    child_environment(monkeypatch, calls_dir)
    site = ChaosSite(
        Stack(load_settings(tmp_path / "home", max_concurrent_jobs=MAX_CONCURRENT_JOBS)), calls_dir
    )
    try:
        site.up()
        yield site
    finally:
        site.http.close()
        site.stack.down()


def rows_per_key(
    site: ChaosSite, table: str, columns: str, job_ids: list[str]
) -> Counter[tuple[object, ...]]:
    """How many rows of ``table`` each ``columns`` tuple has among the given jobs, straight from SQL."""
    with Database(site.settings.resolved_database_url) as database, database.engine.connect() as sql:
        # Table and column names are the callers' constants, never input.
        rows = sql.execute(text(f"SELECT {columns} FROM {table}"))
        wanted = set(job_ids)
        return Counter(tuple(row) for row in rows if row[0] in wanted)


async def job_workflows(site: ChaosSite) -> Counter[str]:
    """Closed executions of the Job workflow per workflow id (= job id), as Temporal lists them."""
    client = await connect(site.settings)
    found: Counter[str] = Counter()
    async for execution in client.list_workflows("WorkflowType = 'Job'"):
        found[execution.id] += 1
    return found


def test_hundred_concurrent_submissions_each_end_in_success_exactly_once(load_site: ChaosSite) -> None:
    started = time.perf_counter()
    report: LoadReport = check(load_site.settings, asyncio.run(submit_all(load_site.settings, JOBS)))
    figures = report.figures()
    # Captured by pytest; shown with -s or when the test fails.
    print({key: round(value, 3) for key, value in figures.items()}, f"{time.perf_counter() - started:.1f} s")

    job_ids = [s.job_id for s in report.submissions if s.job_id is not None]
    assert len(job_ids) == JOBS, [s.error for s in report.submissions if s.job_id is None]
    assert len(set(job_ids)) == JOBS, "a job id was given to two submissions"
    assert report.lost == [], report.lost
    assert report.duplicated == [], report.duplicated
    assert all(s.status == "success" for s in report.submissions)

    # One job row per party per job, all in success; one task row per (component, version, party).
    jobs = rows_per_key(load_site, "jobs", "job_id, role, party_id, status", job_ids)
    assert {(j, r, p) for j, r, p, _ in jobs} == {(j, r, p) for j in job_ids for r, p in PARTIES}
    assert set(jobs.values()) == {1} and {s for *_, s in jobs} == {"success"}, jobs
    tasks = rows_per_key(load_site, "tasks", "job_id, component_name, task_version, role, party_id", job_ids)
    expected = {(j, c, 0, r, p) for j in job_ids for c in COMPONENTS for r, p in PARTIES}
    assert set(tasks) == expected and set(tasks.values()) == {1}
    # Each component ran once per party (the test components count their runs).
    for job_id in job_ids:
        for component in COMPONENTS:
            assert load_site.calls(job_id, component) == Counter(dict.fromkeys(PARTIES, 1)), (
                job_id,
                component,
            )

    # Temporal holds exactly one Job workflow per job: none started twice, none lost.
    workflows = asyncio.run(job_workflows(load_site))
    assert sorted(workflows) == sorted(job_ids) and set(workflows.values()) == {1}

    remaining, total = load_site.engine_cores()
    assert remaining == total, f"the engine has {remaining} of {total} cores left after the jobs"
