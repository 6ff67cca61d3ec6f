"""A request id reaches the handler once, whether repeated in sequence, concurrently or after a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from accord.federation.client import FederationClient
from accord.federation.commands import Ack, CreateJob, StartTask
from accord.federation.routes import RouteTable
from accord.federation.server import FederationServer

from .conftest import GUEST, HOST, RecordingHandler, small_plan

JOB = "202401010000000000001"


def _start(party_id: int = HOST.party_id) -> StartTask:
    party = HOST.model_copy(update={"party_id": party_id})
    return StartTask(job_id=JOB, party=party, component="reader_0", task_id="t", task_version=0)


async def test_sequential_retry_returns_first_reply(
    client: FederationClient, handler: RecordingHandler
) -> None:
    handler.replies["start_task"] = Ack(detail="first")
    first = await client.start_task(_start(), source=GUEST, request_id="job-1/start/reader_0/host-10000")
    handler.replies["start_task"] = Ack(detail="second")
    again = await client.start_task(_start(), source=GUEST, request_id="job-1/start/reader_0/host-10000")
    assert first == again == Ack(detail="first")
    assert handler.count("start_task") == 1


async def test_distinct_ids_and_destinations_each_run(
    client: FederationClient, handler: RecordingHandler
) -> None:
    await client.start_task(_start(), source=GUEST)
    await client.start_task(_start(), source=GUEST)  # fresh uuid each call
    # One id for two parties hosted by the same site is two commands, not a repeat.
    await client.start_task(_start(10000), source=GUEST, request_id="same")
    await client.start_task(_start(10001), source=GUEST, request_id="same")
    assert handler.count("start_task") == 4


async def test_concurrent_duplicates_wait_for_the_first(
    client: FederationClient, handler: RecordingHandler
) -> None:
    gate = asyncio.Event()
    handler.behaviour["create_job"] = [gate]
    command = CreateJob(job_id=JOB, party=HOST, initiator=GUEST, dsl={}, runtime_conf={}, plan=small_plan())
    calls = [
        asyncio.create_task(client.create_job(command, source=GUEST, request_id="create-host"))
        for _ in range(3)
    ]
    while handler.count("create_job") == 0:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # the duplicates have arrived by now and must be waiting, not running
    assert handler.count("create_job") == 1
    gate.set()
    replies = await asyncio.gather(*calls)
    assert replies == [Ack(detail="created")] * 3
    assert handler.count("create_job") == 1


async def test_retry_after_deadline_joins_the_running_handler(
    make_client: Callable[..., FederationClient], handler: RecordingHandler
) -> None:
    # The handler outlives the first attempt's deadline; the retries must wait for it, not rerun it.
    handler.behaviour["start_task"] = [0.6]
    client = make_client(timeout_s=0.25, attempts=5, backoff_s=0.01)
    assert await client.start_task(_start(), source=GUEST) == Ack()
    assert handler.count("start_task") == 1


async def test_cache_is_bounded(handler: RecordingHandler) -> None:
    site = FederationServer(handler, cache_size=2)
    await site.start()
    try:
        async with FederationClient(RouteTable(default=site.address)) as client:
            for request_id in ("a", "b", "c", "c", "a"):
                await client.start_task(_start(), source=GUEST, request_id=request_id)
    finally:
        await site.stop(0)
    # "c" repeated hit the cache; "a" had been evicted by then and ran again.
    assert handler.count("start_task") == 4
