"""The standalone stack with the real Temporal dev server and stand-in server/worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

from temporalio import workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from accord.settings import Settings
from accord.standalone.stack import PROCESS_ORDER, Stack, StackStatus, worker_ready_file
from accord.standalone.supervisor import TcpReady
from tests.temporal_env import connect

from .conftest import site_settings, standin_stack
from .test_supervisor import wait_gone


def pids(status: StackStatus) -> dict[str, int | None]:
    return {process.state.name: process.state.pid for process in status.processes}


def actions(status: StackStatus) -> dict[str, str | None]:
    return {process.state.name: process.action for process in status.processes}


def test_up_twice_is_idempotent_and_down_stops_all(stack: Stack, settings: Settings) -> None:
    first = stack.up(timeout_s=30)
    assert actions(first) == dict.fromkeys(PROCESS_ORDER, "started")
    assert first.all_ready and all(process.state.alive for process in first.processes)
    assert (settings.home / "temporal" / "temporal.db").exists()
    assert first.temporal_ui_address == f"http://127.0.0.1:{settings.temporal_ui_port}"

    second = stack.up(timeout_s=30)
    assert actions(second) == dict.fromkeys(PROCESS_ORDER, "running")
    assert pids(second) == pids(first)
    assert stack.status().all_ready

    stopped = stack.down()
    assert actions(stopped) == dict.fromkeys(PROCESS_ORDER, "stopped")
    for pid in pids(first).values():
        assert pid is not None and wait_gone(pid)
    after = stack.status()
    assert not any(process.state.alive or process.state.ready for process in after.processes)
    assert not list((settings.home / "run").glob("*.pid")) and not worker_ready_file(settings).exists()
    for port in (
        int(settings.temporal_address.rsplit(":", 1)[1]),
        settings.http_port,
        settings.federation_port,
    ):
        assert not TcpReady("127.0.0.1", port).check()
    assert actions(stack.down()) == dict.fromkeys(PROCESS_ORDER, "not running")


def test_killed_process_is_restarted_and_the_others_are_left_alone(stack: Stack) -> None:
    first = pids(stack.up(timeout_s=30))

    os.kill(first["server"] or 0, signal.SIGKILL)
    assert wait_gone(first["server"] or 0)
    crashed = stack.status()
    assert [(p.state.name, p.state.alive, p.state.died) for p in crashed.processes] == [
        ("temporal", True, False),
        ("server", False, True),
        ("worker", True, False),
    ]

    second = stack.up(timeout_s=30)
    assert actions(second) == {"temporal": "running", "server": "restarted", "worker": "running"}
    assert second.all_ready
    assert pids(second)["server"] != first["server"]
    assert {k: v for k, v in pids(second).items() if k != "server"} == {
        k: v for k, v in first.items() if k != "server"
    }

    os.kill(first["temporal"] or 0, signal.SIGKILL)
    assert wait_gone(first["temporal"] or 0)
    third = stack.up(timeout_s=30)
    assert actions(third) == {"temporal": "restarted", "server": "running", "worker": "running"}
    assert pids(third)["worker"] == first["worker"]


@workflow.defn
class Echo:
    @workflow.run
    async def run(self, text: str) -> str:
        return text


@workflow.defn
class WaitForSignal:
    def __init__(self) -> None:
        self._text: str | None = None

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self._text is not None)
        return self._text or ""

    @workflow.signal
    def go(self, text: str) -> None:
        self._text = text

    @workflow.query
    def waiting(self) -> bool:
        return self._text is None


async def test_temporal_state_survives_a_crash_of_the_temporal_process(tmp_path: Path) -> None:
    # A namespace of its own also checks that start-dev accepts --namespace on an existing database.
    settings = site_settings(tmp_path / "home", temporal_namespace="accord-test")
    stack = standin_stack(settings)
    queue = f"q-{uuid.uuid4().hex[:8]}"
    try:
        before = await asyncio.to_thread(stack.up, timeout_s=30)
        client = await connect(settings.temporal_address, namespace=settings.temporal_namespace)
        async with Worker(
            client,
            task_queue=queue,
            workflows=[Echo, WaitForSignal],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            assert (
                await client.execute_workflow(Echo.run, "before", id="finished", task_queue=queue) == "before"
            )
            waiting = await client.start_workflow(WaitForSignal.run, id="waiting", task_queue=queue)
            assert await waiting.query(WaitForSignal.waiting) is True

        temporal_pid = pids(before)["temporal"] or 0
        os.kill(temporal_pid, signal.SIGKILL)
        assert wait_gone(temporal_pid)
        after = await asyncio.to_thread(stack.up, timeout_s=30)
        assert actions(after)["temporal"] == "restarted"

        client = await connect(settings.temporal_address, namespace=settings.temporal_namespace)
        finished = client.get_workflow_handle("finished")
        assert (await finished.describe()).status == WorkflowExecutionStatus.COMPLETED
        assert await finished.result() == "before"
        async with Worker(
            client,
            task_queue=queue,
            workflows=[Echo, WaitForSignal],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            handle = client.get_workflow_handle("waiting")
            await handle.signal(WaitForSignal.go, "after")
            assert await handle.result() == "after"
    finally:
        await asyncio.to_thread(stack.down)
