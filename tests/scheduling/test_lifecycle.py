"""Resources, the queue, stop, rerun, auto-retry and time limits."""

from __future__ import annotations

import asyncio
import time

import pytest

from accord.status import JobStatus, TaskStatus
from accord.workflows.job import JobWorkflow
from accord.workflows.queue import queue_workflow_id
from tests.conftest import SiteFactory
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def until(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def assert_no_cores_held(site: RunningSite) -> None:
    engine = site.resources.get_engine("STANDALONE")
    assert engine.remaining_cores == engine.total_cores
    assert site.resources.used_cores("STANDALONE") == 0


async def test_refused_resources_roll_back_and_the_job_waits(make_site: SiteFactory) -> None:
    # 6 cores: the first job holds 4 (2 on guest, 2 on host). The second asks both parties at once:
    # one of them gets the last 2, the other is refused, the grant is given back and the job waits.
    site = await make_site(computing_cores_per_node=6)
    first = await site.submit(
        chain_dsl(["TestSleep"]), conf(job={"task_cores": 2}, common={"c0": {"seconds": 1.5}})
    )
    await until(lambda: site.job_status(first).get(("guest", 9999)) == JobStatus.RUNNING)
    second = await site.submit(chain_dsl(["TestSleep"]), conf(job={"task_cores": 2}))
    handle = site.site.temporal.get_workflow_handle_for(JobWorkflow.run, second)
    await until(lambda: "resources" in site.jobs.get(second, "guest", 9999).status_reason)
    view = await handle.query(JobWorkflow.view)
    assert view.status == JobStatus.WAITING
    assert "resources insufficient on" in view.reason
    assert "guest 9999" in view.reason or "host 10000" in view.reason
    assert site.resources.get_engine("STANDALONE").remaining_cores == 2, "the partial grant was returned"
    assert not any(r.resource_in_use for r in site.jobs.parties(second))
    assert (await site.site.jobs.wait(first)).status == JobStatus.SUCCESS
    result = await site.site.jobs.wait(second)
    assert result.status == JobStatus.SUCCESS, result.reason
    assert_no_cores_held(site)


async def test_a_party_that_can_never_get_cores_times_out_in_the_queue(make_site: SiteFactory) -> None:
    site = await make_site(computing_cores_per_node=4, queue_timeout_s=2)
    job_conf = conf(role={}, job={"task_cores": 1})
    job_conf["job_parameters"]["role"] = {"host": {"0": {"task_cores": 64}}}
    result = await site.run(chain_dsl(["TestSleep"]), job_conf)
    assert result.status == JobStatus.TIMEOUT
    assert "queue limit" in result.reason
    assert set(site.job_status(site.jobs.list_jobs(limit=1)[0].job_id).values()) == {JobStatus.TIMEOUT}
    assert_no_cores_held(site)


async def test_fifo_queue_admits_at_most_max_concurrent_jobs(make_site: SiteFactory) -> None:
    site = await make_site(max_concurrent_jobs=2)
    ids = [
        await site.submit(chain_dsl(["TestSleep"]), conf(common={"c0": {"seconds": 0.4}})) for _ in range(5)
    ]
    results = await asyncio.gather(*(site.site.jobs.wait(j) for j in ids))
    assert all(r.status == JobStatus.SUCCESS for r in results)
    spans = []
    for job_id in ids:
        record = site.jobs.get(job_id, "guest", 9999)
        assert record.start_time is not None and record.end_time is not None
        spans.append((record.start_time, record.end_time))
    for moment, _ in spans:
        overlapping = sum(1 for start, end in spans if start <= moment < end)
        assert overlapping <= 2, "never more than max_concurrent_jobs running"
    queue = site.site.temporal.get_workflow_handle(queue_workflow_id(site.settings.task_queue))
    admitted = [
        event.signal_external_workflow_execution_initiated_event_attributes.workflow_execution.workflow_id
        async for event in queue.fetch_history_events()
        if event.HasField("signal_external_workflow_execution_initiated_event_attributes")
    ]
    # The first two are admitted at once, in whichever order their signals land; the rest wait their turn.
    assert set(admitted[:2]) == set(ids[:2])
    assert admitted[2:] == ids[2:], "waiting jobs are admitted in submission order"


async def test_stop_cancels_running_tasks_everywhere(site: RunningSite) -> None:
    job_id = await site.submit(chain_dsl(["TestSleep", "TestSleep"]), conf(common={"c0": {"seconds": 30}}))
    await until(lambda: any(t.status == TaskStatus.RUNNING for t in site.tasks.list_tasks(job_id)))
    started = time.monotonic()
    await site.site.jobs.stop(job_id)
    result = await site.site.jobs.wait(job_id)
    assert time.monotonic() - started < 10, "a stop takes effect promptly"
    assert result.status == JobStatus.CANCELED
    assert set(site.job_status(job_id).values()) == {JobStatus.CANCELED}
    await until(lambda: all(t.status == TaskStatus.CANCELED for t in site.tasks.list_tasks(job_id)))
    assert not site.tasks.list_tasks(job_id, component_name="c1"), "c1 never started"
    assert_no_cores_held(site)


async def test_auto_retry_runs_a_new_task_version(site: RunningSite) -> None:
    job_conf = conf(job={"auto_retries": 1, "auto_retry_delay": 0}, common={"c1": {"times": 1}})
    result = await site.run(chain_dsl(["TestSleep", "TestFail", "TestSleep"]), job_conf)
    assert result.status == JobStatus.SUCCESS, result.reason
    job_id = site.jobs.list_jobs(limit=1)[0].job_id
    versions = {
        t.key.task_version: t.status for t in site.tasks.list_tasks(job_id, component_name="c1", role="guest")
    }
    assert versions[0] == TaskStatus.FAILED
    assert versions[1] == TaskStatus.SUCCESS
    assert [t.key.task_version for t in site.tasks.list_tasks(job_id, component_name="c2")] == [0, 0]


async def test_failure_without_retries_fails_the_job_and_names_the_component(site: RunningSite) -> None:
    job_conf = conf(common={"c1": {"fail_roles": ["host"]}, "c0": {"seconds": 0}})
    result = await site.run(chain_dsl(["TestSleep", "TestFail", "TestSleep"]), job_conf)
    assert result.status == JobStatus.FAILED
    assert "c1" in result.reason and "host 10000" in result.reason and "asked to fail" in result.reason
    job_id = site.jobs.list_jobs(limit=1)[0].job_id
    assert set(site.job_status(job_id).values()) == {JobStatus.FAILED}
    assert not site.tasks.list_tasks(job_id, component_name="c2")
    assert_no_cores_held(site)


async def test_rerun_from_a_component(site: RunningSite) -> None:
    job_conf = conf(common={"c1": {"times": 1}})
    job_id = await site.submit(chain_dsl(["TestSleep", "TestFail", "TestSleep"]), job_conf)
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.FAILED
    await site.site.jobs.rerun(job_id, "c1")
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result.reason
    guest = {
        (t.key.component_name, t.key.task_version): t.status
        for t in site.tasks.list_tasks(job_id, role="guest")
    }
    assert guest == {
        ("c0", 0): TaskStatus.SUCCESS,
        ("c1", 0): TaskStatus.FAILED,
        ("c1", 1): TaskStatus.SUCCESS,
        ("c2", 1): TaskStatus.SUCCESS,
    }
    assert set(site.job_status(job_id).values()) == {JobStatus.SUCCESS}
    # A forced rerun from c0 runs everything again, successful components included.
    await site.site.jobs.rerun(job_id, "c0", force=True)
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.SUCCESS
    latest = {t.key.component_name: t.key.task_version for t in site.tasks.latest(job_id)}
    assert latest == {"c0": 1, "c1": 2, "c2": 2}


async def test_job_timeout_counts_from_running(site: RunningSite) -> None:
    job_conf = conf(job={"timeout": 2}, common={"c0": {"seconds": 30}})
    started = time.monotonic()
    result = await site.run(chain_dsl(["TestSleep"]), job_conf)
    assert result.status == JobStatus.TIMEOUT
    assert time.monotonic() - started < 15
    job_id = site.jobs.list_jobs(limit=1)[0].job_id
    assert set(site.job_status(job_id).values()) == {JobStatus.TIMEOUT}
    await until(lambda: all(t.status == TaskStatus.TIMEOUT for t in site.tasks.list_tasks(job_id)))
    assert_no_cores_held(site)


async def test_queue_time_has_its_own_limit(make_site: SiteFactory) -> None:
    site = await make_site(max_concurrent_jobs=1, queue_timeout_s=2)
    blocker = await site.submit(chain_dsl(["TestSleep"]), conf(common={"c0": {"seconds": 4}}))
    await until(lambda: site.job_status(blocker).get(("guest", 9999)) == JobStatus.RUNNING)
    waiting = await site.submit(chain_dsl(["TestSleep"]), conf())
    result = await site.site.jobs.wait(waiting)
    assert result.status == JobStatus.TIMEOUT and "job queue" in result.reason
    assert (await site.site.jobs.wait(blocker)).status == JobStatus.SUCCESS
    assert_no_cores_held(site)
