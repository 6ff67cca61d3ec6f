"""DAG order, parallelism, several hosts, PUSH and PULL, and long jobs."""

from __future__ import annotations

import pytest

from accord.status import JobStatus, TaskStatus
from tests.scheduling.conftest import SiteFactory
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf, dag_dsl

pytestmark = pytest.mark.asyncio(loop_scope="session")

DIAMOND = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}


def _spans(site: RunningSite, job_id: str, role: str = "guest") -> dict[str, tuple[float, float]]:
    spans = {}
    for task in site.tasks.list_tasks(job_id, role=role):
        assert task.start_time is not None and task.end_time is not None
        spans[task.key.component_name] = (task.start_time.timestamp(), task.end_time.timestamp())
    return spans


async def test_parallel_branches_overlap_with_task_parallelism_2(site: RunningSite) -> None:
    job_conf = conf(job={"task_parallelism": 2}, common={n: {"seconds": 0.6} for n in ("b", "c")})
    result = await site.run(dag_dsl(DIAMOND), job_conf)
    assert result.status == JobStatus.SUCCESS, result.reason
    spans = _spans(site, result_job(site))
    assert spans["a"][1] <= spans["b"][0] and spans["a"][1] <= spans["c"][0]
    assert max(spans["b"][0], spans["c"][0]) < min(spans["b"][1], spans["c"][1]), "b and c ran together"
    assert spans["d"][0] >= max(spans["b"][1], spans["c"][1])


async def test_branches_run_one_at_a_time_with_task_parallelism_1(site: RunningSite) -> None:
    job_conf = conf(common={n: {"seconds": 0.3} for n in ("b", "c")})
    result = await site.run(dag_dsl(DIAMOND), job_conf)
    assert result.status == JobStatus.SUCCESS, result.reason
    spans = _spans(site, result_job(site))
    first, second = sorted((spans["b"], spans["c"]))
    assert first[1] <= second[0], "with task_parallelism 1 the branches do not overlap"


async def test_two_hosts_each_run_every_component(site: RunningSite) -> None:
    job_conf = conf(hosts=[10000, 10001], role={"host": {"0|1": {"c1": {"seconds": 0.1}}}})
    result = await site.run(chain_dsl(["TestSleep", "TestSleep"]), job_conf)
    assert result.status == JobStatus.SUCCESS, result.reason
    job_id = result_job(site)
    for party in (10000, 10001):
        tasks = site.tasks.list_tasks(job_id, role="host", party_id=party)
        assert sorted(t.key.component_name for t in tasks) == ["c0", "c1"]
        assert all(t.status == TaskStatus.SUCCESS for t in tasks)


async def test_pull_collection(site: RunningSite) -> None:
    job_conf = conf(job={"federated_status_collect_type": "PULL"}, arbiter=10000)
    result = await site.run(chain_dsl(["TestSleep", "TestSleep"]), job_conf)
    assert result.status == JobStatus.SUCCESS, result.reason
    assert all(t.status == TaskStatus.SUCCESS for t in site.tasks.list_tasks(result_job(site)))


async def test_200_components_continue_as_new_and_succeed(make_site: SiteFactory) -> None:
    site = await make_site(history_limit=600)
    job_id = await site.submit(chain_dsl(["TestSleep"] * 200), conf())
    handle = site.site.temporal.get_workflow_handle(job_id)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result.reason
    assert len(site.tasks.list_tasks(job_id, role="guest")) == 200
    runs = 0
    async for execution in site.site.temporal.list_workflows(f"WorkflowId = '{job_id}'"):
        runs += 1
        history = await site.site.temporal.get_workflow_handle(
            job_id, run_id=execution.run_id
        ).fetch_history()
        assert len(history.events) < 1200, "each run stays near its history limit"
    assert runs > 1, "the job continued as new"
    assert (await handle.describe()).status is not None


def result_job(site: RunningSite) -> str:
    newest = site.jobs.list_jobs(limit=1)
    return newest[0].job_id
