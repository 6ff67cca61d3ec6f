"""Coded errors cross the wire intact; only retryable ones and transport failures are retried."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

import grpc
import pytest

from accord.errors import (
    AccordError,
    ArgumentError,
    ConflictError,
    ConnectionFailure,
    OperatingError,
    ResourceInsufficient,
    StatusTransitionError,
)
from accord.federation import wire
from accord.federation.client import FederationClient
from accord.federation.commands import Ack, ApplyResource, ResourceReply, StartTask
from accord.federation.proto import federation_pb2 as pb
from accord.federation.proto import federation_pb2_grpc as pb_grpc
from accord.federation.routes import RouteTable
from accord.federation.server import FederationServer

from .conftest import GUEST, HOST, RecordingHandler

JOB = "202401010000000000001"
START = StartTask(job_id=JOB, party=HOST, component="reader_0", task_id="t", task_version=0)
APPLY = ApplyResource(job_id=JOB, party=HOST, engine_name="EGGROLL", cores=4)


async def test_coded_error_arrives_intact_and_is_not_retried(
    client: FederationClient, handler: RecordingHandler
) -> None:
    handler.behaviour["start_task"] = [
        StatusTransitionError("task reader_0 of 任务 is success, cannot go to running (100% done)\nsee log")
    ]
    with pytest.raises(StatusTransitionError) as caught:
        await client.start_task(START, source=GUEST)
    assert caught.value.code == 10303
    assert str(caught.value) == "task reader_0 of 任务 is success, cannot go to running (100% done)\nsee log"
    assert handler.count("start_task") == 1


async def test_hint_travels_inside_retmsg(client: FederationClient, handler: RecordingHandler) -> None:
    handler.behaviour["start_task"] = [ConflictError("task t exists", hint="use another task_version")]
    with pytest.raises(ConflictError) as caught:
        await client.start_task(START, source=GUEST)
    assert caught.value.retmsg == "task t exists. use another task_version"


async def test_retryable_error_is_retried_up_to_attempts(
    make_client: Callable[..., FederationClient], handler: RecordingHandler
) -> None:
    handler.behaviour["apply_resource"] = [ResourceInsufficient(f"busy {n}") for n in range(4)]
    client = make_client(attempts=4)
    with pytest.raises(ResourceInsufficient, match="busy 3"):
        await client.apply_resource(APPLY, source=GUEST, request_id="apply-1")
    # Failures are not cached: every attempt reached the handler, under the same request id.
    assert handler.count("apply_resource") == 4


async def test_retryable_error_then_success(client: FederationClient, handler: RecordingHandler) -> None:
    handler.behaviour["apply_resource"] = [ResourceInsufficient("busy")]
    assert await client.apply_resource(APPLY, source=GUEST) == ResourceReply(granted=True)
    assert handler.count("apply_resource") == 2


async def test_unexpected_exception_is_internal_retcode_100(
    client: FederationClient, handler: RecordingHandler, caplog: pytest.LogCaptureFixture
) -> None:
    handler.behaviour["start_task"] = [KeyError("reader_0")]
    with pytest.raises(AccordError) as caught:
        await client.start_task(START, source=GUEST, request_id="r-1")
    assert type(caught.value) is AccordError and caught.value.code == 100
    assert "KeyError" in str(caught.value) and "r-1" in str(caught.value)
    assert handler.count("start_task") == 1
    assert any(record.exc_info for record in caplog.records), "the traceback is logged at the server"


async def test_handler_returning_the_wrong_model_is_internal(
    client: FederationClient, handler: RecordingHandler
) -> None:
    handler.replies["apply_resource"] = Ack()
    with pytest.raises(AccordError, match="returned Ack, not ResourceReply"):
        await client.apply_resource(APPLY, source=GUEST)


async def test_invalid_body_is_argument_error(client: FederationClient, handler: RecordingHandler) -> None:
    # A peer whose models differ (version skew) sends a body this site's model rejects.
    skewed = StartTask.model_construct(job_id=JOB, party=HOST, component="c", task_id="t", task_version=-1)
    with pytest.raises(ArgumentError, match="task_version"):
        await client.start_task(skewed, source=GUEST)
    assert handler.calls == []


@pytest.mark.parametrize(
    "envelope",
    [
        pb.Envelope(
            request_id="x", source=wire.to_address(GUEST), destination=wire.to_address(HOST), body=b"{"
        ),
        pb.Envelope(request_id="x", destination=wire.to_address(HOST), body=START.model_dump_json().encode()),
    ],
    ids=["not-json", "no-source"],
)
async def test_malformed_envelope_is_invalid_argument(
    server: FederationServer, envelope: pb.Envelope
) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = pb_grpc.FederationControlStub(channel)  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.StartTask(envelope, timeout=2)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = wire.error_from_metadata(caught.value.trailing_metadata(), caught.value.details() or "")
    assert isinstance(error, ArgumentError)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_unreachable_destination_is_connection_failure() -> None:
    address = f"127.0.0.1:{_closed_port()}"
    timeout_s, attempts, backoff_s = 0.3, 3, 0.05
    client = FederationClient(
        RouteTable(default=address), timeout_s=timeout_s, attempts=attempts, backoff_s=backoff_s
    )
    started = time.monotonic()
    try:
        with pytest.raises(ConnectionFailure) as caught:
            await client.start_task(START, source=GUEST)
    finally:
        await client.close()
    elapsed = time.monotonic() - started
    assert "host 10000" in str(caught.value) and address in str(caught.value)
    assert caught.value.retryable and caught.value.code == 105
    assert caught.value.details == {"party": 10000, "address": address}
    assert elapsed < attempts * (timeout_s + 2 * backoff_s) + 1.0


async def test_server_restarted_on_the_same_port(handler: RecordingHandler) -> None:
    first = FederationServer(handler, port=0)
    port = await first.start()
    client = FederationClient(RouteTable(default=f"127.0.0.1:{port}"), timeout_s=2.0, attempts=3)
    try:
        assert await client.start_task(START, source=GUEST) == Ack()
        await first.stop(0)
        second = FederationServer(handler, port=port)
        assert await second.start() == port
        try:
            assert await client.start_task(START, source=GUEST) == Ack()
        finally:
            await second.stop(0)
        # A call made while the peer is down waits for it to come back within the deadline.
        third = FederationServer(handler, port=port)

        async def start_later() -> int:
            await asyncio.sleep(0.3)
            return await third.start()

        restart = asyncio.create_task(start_later())
        try:
            assert await client.start_task(START, source=GUEST) == Ack()
            assert await restart == port
        finally:
            await third.stop(0)
    finally:
        await client.close()
    assert handler.count("start_task") == 3


async def test_port_in_use_is_refused(server: FederationServer, handler: RecordingHandler) -> None:
    clash = FederationServer(handler, port=server.port)
    with pytest.raises(OperatingError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        await clash.start()
