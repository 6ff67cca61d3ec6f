"""Every workflow replays its recorded histories deterministically with today's code."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from accord.contracts import JOB_STATUS, MODULES
from accord.identity import Party
from accord.status import JobStatus
from accord.temporal_client import workflow_runner
from accord.worker import WORKFLOWS
from accord.workflows.party import party_workflow_id
from accord.workflows.queue import queue_workflow_id
from tests.conftest import SiteFactory
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf, dag_dsl
from tests.scheduling.test_pause import pause_while_first_runs

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def histories(site: RunningSite, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of a workflow id (continue-as-new makes several)."""
    found = []
    async for execution in site.site.temporal.list_workflows(f"WorkflowId = '{workflow_id}'"):
        handle = site.site.temporal.get_workflow_handle(workflow_id, run_id=execution.run_id)
        found.append(await handle.fetch_history())
    assert found, workflow_id
    return found


async def replay_all(found: list[WorkflowHistory]) -> None:
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )
    async with replayer.workflow_replay_iterator(_iterate(found)) as results:
        replayed = 0
        async for result in results:
            assert result.replay_failure is None, f"{result.history.workflow_id}: {result.replay_failure}"
            replayed += 1
    assert replayed == len(found)


async def _iterate(found: list[WorkflowHistory]):  # type: ignore[no-untyped-def]
    for history in found:
        yield history


async def test_replay_of_successful_failed_retried_and_stopped_jobs(make_site: SiteFactory) -> None:
    site = await make_site(history_limit=120)
    ok = await site.submit(dag_dsl({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}), conf(arbiter=10000))
    retried = await site.submit(
        chain_dsl(["TestSleep", "TestFail"]),
        conf(job={"auto_retries": 1, "auto_retry_delay": 0}, common={"c1": {"times": 1}}),
    )
    failed = await site.submit(chain_dsl(["TestFail"]), conf())
    pulled = await site.submit(
        chain_dsl(["TestSleep"] * 2), conf(job={"federated_status_collect_type": "PULL"})
    )
    long_job = await site.submit(chain_dsl(["TestSleep"] * 30), conf())
    stopped = await site.submit(chain_dsl(["TestSleep"]), conf(common={"c0": {"seconds": 30}}))
    expected = {
        ok: JobStatus.SUCCESS,
        retried: JobStatus.SUCCESS,
        failed: JobStatus.FAILED,
        pulled: JobStatus.SUCCESS,
        long_job: JobStatus.SUCCESS,
    }
    for job_id, status in expected.items():
        assert (await site.site.jobs.wait(job_id)).status == status
    await site.site.jobs.stop(stopped)
    assert (await site.site.jobs.wait(stopped)).status == JobStatus.CANCELED

    found: list[WorkflowHistory] = []
    for job_id in [*expected, stopped]:
        found += await histories(site, job_id)
        found += await histories(site, party_workflow_id(job_id, Party(role="host", party_id=10000)))
    assert len(await histories(site, long_job)) > 1, "the long job continued as new"
    # The search attributes its first run set carry over to the run that ends it.
    continued = await site.site.temporal.get_workflow_handle(long_job).describe()
    assert continued.typed_search_attributes.get(JOB_STATUS) == "success"
    assert continued.typed_search_attributes.get(MODULES) == ["TestSleep"]
    found += await histories(site, queue_workflow_id(site.settings.task_queue))
    await replay_all(found)


async def test_replay_of_a_paused_resumed_and_a_paused_stopped_job(make_site: SiteFactory) -> None:
    site = await make_site()
    resumed = await pause_while_first_runs(site, seconds=0.3)
    stopped = await pause_while_first_runs(site, seconds=0.3)
    await site.site.jobs.resume(resumed)
    assert (await site.site.jobs.wait(resumed)).status == JobStatus.SUCCESS
    await site.site.jobs.stop(stopped)
    assert (await site.site.jobs.wait(stopped)).status == JobStatus.CANCELED
    found: list[WorkflowHistory] = []
    for job_id in (resumed, stopped):
        found += await histories(site, job_id)
        found += await histories(site, party_workflow_id(job_id, Party(role="guest", party_id=9999)))
    found += await histories(site, queue_workflow_id(site.settings.task_queue))
    await replay_all(found)
