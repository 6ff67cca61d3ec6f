"""Pause and resume at task boundaries: running tasks finish, cores and the queue slot go back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from accord.contracts import JOB_STATUS
from accord.errors import JobStateError
from accord.status import JobStatus, TaskStatus
from accord.workflows.job import JobWorkflow
from accord.workflows.queue import JobQueueWorkflow, queue_workflow_id
from tests.conftest import SiteFactory
from tests.scheduling.harness import RunningSite, site_settings, start_running_site, stop_running_site
from tests.scheduling.jobs import chain_dsl, conf
from tests.scheduling.test_lifecycle import assert_no_cores_held, until

pytestmark = pytest.mark.asyncio(loop_scope="session")

PARTIES = {("guest", 9999), ("host", 10000)}


def statuses(site: RunningSite, job_id: str) -> set[JobStatus]:
    return set(site.job_status(job_id).values())


def task_states(site: RunningSite, job_id: str) -> dict[tuple[str, str, int], TaskStatus]:
    return {
        (t.key.component_name, t.key.role, t.key.task_version): t.status
        for t in site.tasks.list_tasks(job_id)
    }


async def pause_while_first_runs(site: RunningSite, seconds: float = 1.0) -> str:
    """A two-step job paused while its first step runs; returns once it is paused everywhere."""
    job_id = await site.submit(
        chain_dsl(["TestSleep", "TestSleep"]), conf(common={"c0": {"seconds": seconds}})
    )
    await until(lambda: any(t.status == TaskStatus.RUNNING for t in site.tasks.list_tasks(job_id)))
    await site.site.jobs.pause(job_id)
    await until(lambda: statuses(site, job_id) == {JobStatus.PAUSED})
    return job_id


async def test_pause_lets_running_tasks_finish_then_gives_back_cores_and_slot(site: RunningSite) -> None:
    job_id = await pause_while_first_runs(site)
    states = task_states(site, job_id)
    assert {states[("c0", role, 0)] for role in ("guest", "host")} == {TaskStatus.SUCCESS}, "c0 finished"
    assert not any(name == "c1" for name, _, _ in states), "no new task started while paused"
    assert_no_cores_held(site)
    assert not any(r.resource_in_use for r in site.jobs.parties(job_id))
    queue = site.site.temporal.get_workflow_handle_for(
        JobQueueWorkflow.run, queue_workflow_id(site.settings.task_queue)
    )
    snapshot = await queue.query(JobQueueWorkflow.snapshot)
    assert job_id not in snapshot.running and job_id not in snapshot.waiting, "the queue slot is free"

    handle = site.site.temporal.get_workflow_handle_for(JobWorkflow.run, job_id)
    view = await handle.query(JobWorkflow.view)
    assert view.status == JobStatus.PAUSED and view.pause_requested
    assert "accord job resume" in site.jobs.get(job_id, "host", 10000).status_reason
    # The web UI finds it by its status, and its details say why it waits.
    described = await handle.describe()
    assert described.typed_search_attributes.get(JOB_STATUS) == "paused"
    with pytest.raises(JobStateError, match="already paused"):
        await site.site.jobs.pause(job_id)

    await site.site.jobs.resume(job_id)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result.reason
    assert statuses(site, job_id) == {JobStatus.SUCCESS}
    states = task_states(site, job_id)
    assert states[("c0", "guest", 0)] == TaskStatus.SUCCESS, "c0 was not run again"
    assert {states[("c1", role, 0)] for role in ("guest", "host")} == {TaskStatus.SUCCESS}
    assert_no_cores_held(site)
    with pytest.raises(JobStateError, match="has ended"):
        await site.site.jobs.resume(job_id)


async def test_a_paused_job_lets_another_run_in_its_queue_slot(make_site: SiteFactory) -> None:
    site = await make_site(max_concurrent_jobs=1)
    paused = await pause_while_first_runs(site, seconds=0.5)
    other = await site.run(chain_dsl(["TestSleep"]), conf())
    assert other.status == JobStatus.SUCCESS, "the paused job's slot was free"
    assert statuses(site, paused) == {JobStatus.PAUSED}
    await site.site.jobs.resume(paused)
    assert (await site.site.jobs.wait(paused)).status == JobStatus.SUCCESS


async def test_resume_before_the_running_tasks_end_just_carries_on(site: RunningSite) -> None:
    job_id = await site.submit(chain_dsl(["TestSleep", "TestSleep"]), conf(common={"c0": {"seconds": 2}}))
    await until(lambda: any(t.status == TaskStatus.RUNNING for t in site.tasks.list_tasks(job_id)))
    await site.site.jobs.pause(job_id)
    view = await site.site.jobs.live_view(job_id)
    assert view is not None and view.pause_requested and view.status == JobStatus.RUNNING
    assert view.reason.startswith("pausing")
    await site.site.jobs.resume(job_id)
    with pytest.raises(JobStateError, match="not paused"):
        await site.site.jobs.resume(job_id)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result.reason
    assert JobStatus.PAUSED not in statuses(site, job_id)


async def test_stop_while_paused_cancels_the_job_everywhere(site: RunningSite) -> None:
    job_id = await pause_while_first_runs(site, seconds=0.3)
    await site.site.jobs.stop(job_id)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.CANCELED and "paused" in result.reason
    assert statuses(site, job_id) == {JobStatus.CANCELED}
    assert_no_cores_held(site)


async def test_time_paused_does_not_count_against_the_timeout(site: RunningSite) -> None:
    job_conf = conf(job={"timeout": 4}, common={"c0": {"seconds": 1}, "c1": {"seconds": 1}})
    job_id = await site.submit(chain_dsl(["TestSleep", "TestSleep"]), job_conf)
    await until(lambda: any(t.status == TaskStatus.RUNNING for t in site.tasks.list_tasks(job_id)))
    await site.site.jobs.pause(job_id)
    await until(lambda: statuses(site, job_id) == {JobStatus.PAUSED})
    await asyncio.sleep(4.5)
    await site.site.jobs.resume(job_id)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result.reason


async def test_a_paused_job_survives_a_restart_of_the_server_and_worker(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    address = temporal_env.client.service_client.config.target_host
    settings = site_settings(tmp_path, address)
    site = await start_running_site(temporal_env.client, settings)
    try:
        job_id = await pause_while_first_runs(site, seconds=0.3)
    finally:
        await stop_running_site(site)
    # Nothing of the site runs now; the paused job lives on in Temporal alone.
    restarted = await start_running_site(temporal_env.client, settings)
    try:
        assert statuses(restarted, job_id) == {JobStatus.PAUSED}
        view = await restarted.site.jobs.live_view(job_id)
        assert view is not None and view.status == JobStatus.PAUSED
        await restarted.site.jobs.resume(job_id)
        result = await restarted.site.jobs.wait(job_id)
        assert result.status == JobStatus.SUCCESS, result.reason
    finally:
        await stop_running_site(restarted)
