"""A real gRPC server on 127.0.0.1 with a recording handler, and a client routed to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pytest
from opentelemetry import trace
from pydantic import BaseModel

from accord.dsl_compiler import CompileOptions, JobPlan, compile_job
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
from accord.federation.server import FederationServer
from accord.identity import Party, TaskReport

R = TypeVar("R", bound=BaseModel)

GUEST = Party(role="guest", party_id=9999)
HOST = Party(role="host", party_id=10000)


@dataclass
class Call:
    method: str
    command: BaseModel
    source: Party
    span: trace.SpanContext


@dataclass
class RecordingHandler:
    """The site's side of the contract: records each call and answers with ``replies[method]``.

    ``behaviour[method]`` is popped once per call when present: an exception to raise, a number of
    seconds to sleep first, or an asyncio.Event to wait for.
    """

    replies: dict[str, BaseModel] = field(default_factory=dict)
    behaviour: dict[str, list[BaseException | float | asyncio.Event]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def count(self, method: str) -> int:
        return sum(1 for call in self.calls if call.method == method)

    async def _handle(self, method: str, command: BaseModel, source: Party, default: R) -> R:
        self.calls.append(Call(method, command, source, trace.get_current_span().get_span_context()))
        steps = self.behaviour.get(method)
        if steps:
            step = steps.pop(0)
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, asyncio.Event):
                await step.wait()
            else:
                await asyncio.sleep(step)
        # Tests may plant a reply of the wrong type on purpose, to see the server refuse it.
        return cast(R, self.replies.get(method, default))

    async def create_job(self, command: CreateJob, source: Party) -> Ack:
        return await self._handle("create_job", command, source, Ack(detail="created"))

    async def apply_resource(self, command: ApplyResource, source: Party) -> ResourceReply:
        return await self._handle("apply_resource", command, source, ResourceReply(granted=True))

    async def return_resource(self, command: ReturnResource, source: Party) -> Ack:
        return await self._handle("return_resource", command, source, Ack())

    async def start_task(self, command: StartTask, source: Party) -> Ack:
        return await self._handle("start_task", command, source, Ack())

    async def stop_task(self, command: StopTask, source: Party) -> Ack:
        return await self._handle("stop_task", command, source, Ack())

    async def report_status(self, command: TaskReport, source: Party) -> Ack:
        return await self._handle("report_status", command, source, Ack())

    async def query_status(self, command: QueryStatus, source: Party) -> StatusReply:
        return await self._handle("query_status", command, source, StatusReply())

    async def update_job_status(self, command: UpdateJobStatus, source: Party) -> Ack:
        return await self._handle("update_job_status", command, source, Ack())

    async def deploy_model(self, command: DeployModel, source: Party) -> Ack:
        return await self._handle("deploy_model", command, source, Ack())

    async def probe_reuse(self, command: ProbeReuse, source: Party) -> ReuseOffer:
        return await self._handle("probe_reuse", command, source, ReuseOffer(party=command.party))

    async def ping(self, command: Ping, source: Party) -> Pong:
        return await self._handle("ping", command, source, Pong(site_party_ids=(9999, 10000), version="t"))


def small_plan() -> JobPlan:
    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "data_transform_0": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }
    table = {"reader_0": {"table": {"name": "breast_hetero", "namespace": "experiment"}}}
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "job_parameters": {"common": {}},
        "component_parameters": {"role": {"guest": {"0": table}, "host": {"0": table}}},
    }
    return compile_job(dsl, conf, CompileOptions(job_id="202401010000000000001"))


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
async def server(handler: RecordingHandler) -> AsyncIterator[FederationServer]:
    site = FederationServer(handler, host="127.0.0.1", port=0)
    await site.start()
    yield site
    await site.stop(0)


@pytest.fixture
async def make_client(server: FederationServer) -> AsyncIterator[Callable[..., FederationClient]]:
    """Clients routed to the fixture server; every party lives there, as in standalone."""
    made: list[FederationClient] = []

    def make(**options: Any) -> FederationClient:
        options.setdefault("timeout_s", 2.0)
        options.setdefault("attempts", 3)
        options.setdefault("backoff_s", 0.01)
        client = FederationClient(RouteTable(default=server.address), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
def client(make_client: Callable[..., FederationClient]) -> FederationClient:
    return make_client()
