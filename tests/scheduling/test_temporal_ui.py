"""What Temporal (and so its web UI) shows of a job: its real ending, its search attributes, its
party workflows and a summary on every task activity."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from accord.activities.queue import QueueActivities
from accord.contracts import INITIATOR, JOB_STATUS, MODULES, PARTIES
from accord.identity import Party
from accord.status import JobStatus, TaskStatus
from accord.workflows.party import party_workflow_id
from accord.workflows.visibility import ENDING_MEMO, JOB_WORKFLOW_MEMO, PARTY_WORKFLOWS_MEMO
from tests.scheduling.harness import RunningSite
from tests.scheduling.jobs import chain_dsl, conf
from tests.scheduling.test_lifecycle import until

pytestmark = pytest.mark.asyncio(loop_scope="session")

HOST = Party(role="host", party_id=10000)


async def found_by(client: Client, query: str, job_id: str, timeout: float = 20.0) -> None:
    """The job's workflow is listed by ``query`` (visibility lags the workflow a little)."""
    deadline = time.monotonic() + timeout
    while True:
        listed = [w.id async for w in client.list_workflows(f'{query} AND WorkflowId = "{job_id}"')]
        if listed == [job_id]:
            return
        assert time.monotonic() < deadline, f"{query} does not list {job_id}"
        await asyncio.sleep(0.2)


async def test_a_failed_job_fails_its_workflow_and_is_found_by_its_status(site: RunningSite) -> None:
    job_id = await site.submit(chain_dsl(["TestSleep", "TestFail"]), conf())
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.FAILED
    assert "component c1" in result.reason
    assert result.dag.components["c1"].status == TaskStatus.FAILED, "the result keeps the DAG"

    temporal = site.site.temporal
    description = await temporal.get_workflow_handle(job_id).describe()
    assert description.status == WorkflowExecutionStatus.FAILED
    attributes = description.typed_search_attributes
    assert attributes.get(JOB_STATUS) == "failed"
    assert attributes.get(INITIATOR) == "guest 9999"
    assert sorted(attributes.get(PARTIES) or []) == ["guest 9999", "host 10000"]
    assert sorted(attributes.get(MODULES) or []) == ["TestFail", "TestSleep"]
    ending = await description.memo_value(ENDING_MEMO)
    assert ending["status"] == "failed" and "component c1" in ending["reason"]
    assert await description.memo_value(PARTY_WORKFLOWS_MEMO) == {
        "guest 9999": party_workflow_id(job_id, Party(role="guest", party_id=9999)),
        "host 10000": party_workflow_id(job_id, HOST),
    }
    await found_by(temporal, 'AccordJobStatus = "failed"', job_id)
    await found_by(temporal, 'ExecutionStatus = "Failed" AND AccordParties = "host 10000"', job_id)

    # The party workflow names its job workflow, and the UI lists each task run by what it is.
    party = temporal.get_workflow_handle(party_workflow_id(job_id, HOST))
    assert (await (await party.describe()).memo_value(JOB_WORKFLOW_MEMO))["workflow_id"] == job_id
    converter = temporal.data_converter.payload_converter
    summaries = [
        converter.from_payload(event.user_metadata.summary, str)
        async for event in party.fetch_history_events()
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name == "run_task"
    ]
    assert summaries == ["c0 · host 10000 · v0", "c1 · host 10000 · v0"]


async def test_a_stopped_job_cancels_its_workflow(site: RunningSite) -> None:
    job_id = await site.submit(chain_dsl(["TestSleep"]), conf(common={"c0": {"seconds": 30}}))
    await until(lambda: any(t.status == TaskStatus.RUNNING for t in site.tasks.list_tasks(job_id)))
    await site.site.jobs.stop(job_id)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.CANCELED
    assert set(site.job_status(job_id).values()) == {JobStatus.CANCELED}, "every party was told first"
    assert "c0" in result.dag.components

    temporal = site.site.temporal
    description = await temporal.get_workflow_handle(job_id).describe()
    assert description.status == WorkflowExecutionStatus.CANCELED
    assert description.typed_search_attributes.get(JOB_STATUS) == "canceled"
    await found_by(temporal, 'AccordJobStatus = "canceled"', job_id)


async def test_a_successful_job_completes_its_workflow(site: RunningSite) -> None:
    job_id = await site.submit(chain_dsl(["TestSleep"]), conf())
    assert (await site.site.jobs.wait(job_id)).status == JobStatus.SUCCESS
    description = await site.site.temporal.get_workflow_handle(job_id).describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    await found_by(site.site.temporal, 'AccordJobStatus = "success"', job_id)


async def test_a_namespace_without_the_attributes_is_reported_once(
    temporal_env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    """A site whose Temporal lacks the attributes runs its jobs without them, and says how to add them."""
    namespace = f"bare-{uuid.uuid4().hex[:8]}"
    client = temporal_env.client
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)
        )
    )
    bare = await Client.connect(client.service_client.config.target_host, namespace=namespace)
    activities = QueueActivities(bare, "unused")
    env = ActivityEnvironment()
    with caplog.at_level(logging.WARNING, logger="accord.activities.queue"):
        for _ in range(2):
            assert await env.run(activities.search_attributes_ready) is False
    warnings = [r.getMessage() for r in caplog.records if "search attribute" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "temporal operator search-attribute create" in warnings[0]
    assert "AccordJobStatus" in warnings[0]
    assert await ActivityEnvironment().run(QueueActivities(client, "unused").search_attributes_ready)
