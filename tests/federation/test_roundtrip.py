"""Every control RPC carries its command and its reply across a real gRPC connection unchanged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pydantic import BaseModel

from accord.federation.client import FederationClient
from accord.federation.commands import (
    Ack,
    ApplyResource,
    CreateJob,
    DeployModel,
    Ping,
    Pong,
    ProbeReuse,
    QueryStatus,
    ResourceReply,
    ReturnResource,
    ReuseOffer,
    StartTask,
    StatusReply,
    StopTask,
    UpdateJobStatus,
)
from accord.federation.routes import RouteTable
from accord.federation.server import ControlHandler
from accord.federation.wire import METHODS
from accord.identity import ReuseCandidate, TaskReport
from accord.settings import Settings
from accord.status import JobStatus, TaskStatus

from .conftest import GUEST, HOST, RecordingHandler, small_plan

JOB = "202401010000000000001"
REPORT = TaskReport(
    job_id=JOB,
    party=HOST,
    component="hetero_lr_0",
    task_version=1,
    status=TaskStatus.FAILED,
    error="loss is nan — 损失",
    elapsed_ms=1234,
)


def _create_job() -> CreateJob:
    return CreateJob(
        job_id=JOB,
        party=HOST,
        initiator=GUEST,
        dsl={"components": {"reader_0": {"module": "Reader"}}},
        runtime_conf={"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999}},
        plan=small_plan(),
    )


Send = Callable[[FederationClient, Any], Awaitable[BaseModel]]

CASES: list[tuple[str, BaseModel, BaseModel, Send]] = [
    (
        "create_job",
        _create_job(),
        Ack(detail="created on host"),
        lambda c, cmd: c.create_job(cmd, source=GUEST),
    ),
    (
        "apply_resource",
        ApplyResource(job_id=JOB, party=HOST, engine_name="EGGROLL", cores=4),
        ResourceReply(granted=False, reason="engine EGGROLL has 2 of 4 cores free"),
        lambda c, cmd: c.apply_resource(cmd, source=GUEST),
    ),
    (
        "return_resource",
        ReturnResource(job_id=JOB, party=HOST),
        Ack(),
        lambda c, cmd: c.return_resource(cmd, source=GUEST),
    ),
    (
        "start_task",
        StartTask(job_id=JOB, party=HOST, component="reader_0", task_id=f"{JOB}_reader_0", task_version=0),
        Ack(detail="started"),
        lambda c, cmd: c.start_task(cmd, source=GUEST),
    ),
    (
        "start_task",
        StartTask(
            job_id=JOB,
            party=HOST,
            component="reader_0",
            task_id=f"{JOB}_reader_0",
            task_version=1,
            reuse_from=ReuseCandidate(job_id="202301010000000000001", component="reader_1", task_version=2),
        ),
        Ack(),
        lambda c, cmd: c.start_task(cmd, source=GUEST),
    ),
    (
        "probe_reuse",
        ProbeReuse(job_id=JOB, party=HOST, component="reader_0"),
        ReuseOffer(
            party=HOST,
            candidates=(
                ReuseCandidate(job_id="202301010000000000001", component="reader_1", task_version=2),
            ),
        ),
        lambda c, cmd: c.probe_reuse(cmd, source=GUEST),
    ),
    (
        "stop_task",
        StopTask(job_id=JOB, party=HOST, component="reader_0", task_version=2, status=TaskStatus.FAILED),
        Ack(ok=False, detail="already ended"),
        lambda c, cmd: c.stop_task(cmd, source=GUEST),
    ),
    (
        "report_status",
        REPORT,
        Ack(),
        lambda c, cmd: c.report_status(cmd, destination=GUEST),
    ),
    (
        "query_status",
        QueryStatus(job_id=JOB, party=HOST, components=("reader_0", "hetero_lr_0")),
        StatusReply(tasks=(REPORT, REPORT.model_copy(update={"component": "reader_0"}))),
        lambda c, cmd: c.query_status(cmd, source=GUEST),
    ),
    (
        "update_job_status",
        UpdateJobStatus(job_id=JOB, party=HOST, status=JobStatus.CANCELED, reason="canceled by user"),
        Ack(),
        lambda c, cmd: c.update_job_status(cmd, source=GUEST),
    ),
    (
        "deploy_model",
        DeployModel(
            job_id=JOB,
            party=HOST,
            model_id="guest-9999#host-10000#model",
            new_version="202401010000000000002",
            components=("reader_0", "hetero_lr_0"),
            predict_dsl={"components": {"reader_0": {"module": "Reader"}}},
        ),
        Ack(detail="deployed"),
        lambda c, cmd: c.deploy_model(cmd, source=GUEST),
    ),
]


@pytest.mark.parametrize(("method", "command", "reply", "send"), CASES, ids=[case[0] for case in CASES])
async def test_command_and_reply_round_trip(
    client: FederationClient,
    handler: RecordingHandler,
    method: str,
    command: BaseModel,
    reply: BaseModel,
    send: Send,
) -> None:
    handler.replies[method] = reply
    got = await send(client, command)
    assert got == reply
    assert type(got) is type(reply)
    [call] = handler.calls
    assert call.method == method
    assert call.command == command
    # report_status is the one sent by the command's own party; the rest come from the initiator.
    assert call.source == (HOST if method == "report_status" else GUEST)


async def test_ping(client: FederationClient, handler: RecordingHandler) -> None:
    pong = await client.ping(10000)
    assert pong == Pong(site_party_ids=(9999, 10000), version="t")
    [call] = handler.calls
    assert call.command == Ping(party_id=10000)


def test_route_table_resolves_like_settings() -> None:
    settings = Settings(routes={10000: "host-site:9360"}, default_route="hub:9360")
    table = RouteTable.from_settings(settings)
    for party_id in (9999, 10000, 10001):
        assert table.address(party_id) == settings.route(party_id)
    standalone = Settings(federation_port=9361)
    assert RouteTable.from_settings(standalone).address(10000) == standalone.route(10000) == "127.0.0.1:9361"


def test_every_rpc_has_a_handler_method() -> None:
    assert {method.handler for method in METHODS} <= set(dir(ControlHandler))
    assert len({method.name for method in METHODS}) == len(METHODS) == 11
