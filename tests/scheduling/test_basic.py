"""A job runs through the DAG on every party and ends in success."""

from __future__ import annotations

import pytest

from accord.status import JobStatus, TaskStatus
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_chain_runs_to_success_on_every_party(site: RunningSite) -> None:
    job_id = await site.submit(chain_dsl(["TestSleep", "TestSleep", "TestSleep"]), conf(arbiter=10000))
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result.reason
    assert site.job_status(job_id) == {
        ("guest", 9999): JobStatus.SUCCESS,
        ("host", 10000): JobStatus.SUCCESS,
        ("arbiter", 10000): JobStatus.SUCCESS,
    }
    tasks = site.tasks.list_tasks(job_id)
    assert {(t.key.component_name, t.key.role) for t in tasks} == {
        (c, r) for c in ("c0", "c1", "c2") for r in ("guest", "host", "arbiter")
    }
    assert all(t.status == TaskStatus.SUCCESS for t in tasks)
    order = sorted(tasks, key=lambda t: t.start_time or t.create_time)
    guest_order = [t.key.component_name for t in order if t.key.role == "guest"]
    assert guest_order == ["c0", "c1", "c2"]
    engine = site.resources.get_engine("STANDALONE")
    assert engine.remaining_cores == engine.total_cores
