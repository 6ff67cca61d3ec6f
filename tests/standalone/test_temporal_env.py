"""The Temporal helpers other tests use; also a sample of how to use the session-wide dev server."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from tests.temporal_env import connect, start_dev_server_process, stop_dev_server_process

# The session-wide server lives on the session's event loop: its tests must run there too.
pytestmark = pytest.mark.asyncio(loop_scope="session")


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class Shout:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(shout, text, start_to_close_timeout=timedelta(seconds=10))


@workflow.defn
class Nap:
    @workflow.run
    async def run(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def task_queue() -> str:
    # The server is shared by the whole session: every test gets its own queue and workflow ids.
    return f"q-{uuid.uuid4().hex[:8]}"


async def test_session_server_runs_workflows_with_activities(temporal_env: WorkflowEnvironment) -> None:
    queue = task_queue()
    async with Worker(
        temporal_env.client,
        task_queue=queue,
        workflows=[Shout],
        activities=[shout],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        result = await temporal_env.client.execute_workflow(
            Shout.run, "hi", id=f"shout-{queue}", task_queue=queue
        )
    assert result == "HI"


async def test_session_server_is_tuned(temporal_env: WorkflowEnvironment) -> None:
    # Untuned, a timer never fires sooner than history.timerProcessorMaxTimeShift (1 s) after it is set.
    queue = task_queue()
    async with Worker(
        temporal_env.client, task_queue=queue, workflows=[Nap], workflow_runner=UnsandboxedWorkflowRunner()
    ):
        began = time.monotonic()
        await temporal_env.client.execute_workflow(Nap.run, 0.2, id=f"nap-{queue}", task_queue=queue)
    assert 0.2 <= time.monotonic() - began < 0.8


async def test_dev_server_process_keeps_its_state_across_sigkill(tmp_path: Path) -> None:
    server, address = start_dev_server_process(tmp_path)
    queue = task_queue()
    try:
        client = await connect(address)
        async with Worker(
            client,
            task_queue=queue,
            workflows=[Shout],
            activities=[shout],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            assert await client.execute_workflow(Shout.run, "kept", id="kept", task_queue=queue) == "KEPT"

        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        server, again = start_dev_server_process(tmp_path, port=int(address.rsplit(":", 1)[1]))
        assert again == address

        handle = (await connect(address)).get_workflow_handle("kept")
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        assert await handle.result() == "KEPT"
    finally:
        stop_dev_server_process(server)
