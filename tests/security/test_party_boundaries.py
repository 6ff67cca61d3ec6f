"""A party speaks only for itself: three sites with mutual TLS, one of them trying to speak for another.

The host's site holds a valid certificate for the host, so it passes the handshake and the envelope
check; what it must not get past is the job: reporting the guest's task, setting the job's status,
stopping the guest's task, pushing values for a job it is not in, or more than the job's quota. And
a job stopped while one of its sites is down ends at once on the others, and on that one when it is
back. A party's refusal of a command ends the job at once, naming the refusal.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from accord.errors import JobStateError, NotAPartyOfJob, PartyImpersonation, TransferQuotaExceeded
from accord.federation import wire
from accord.federation.channels import Channels
from accord.federation.client import FederationClient
from accord.federation.commands import (
    CreateJob,
    QueryStatus,
    StatusReply,
    StopTask,
    UpdateJobStatus,
)
from accord.federation.dataplane import chunks_of, header_of
from accord.federation.mailbox import TransferKey
from accord.federation.proto import federation_pb2 as pb
from accord.federation.proto import federation_pb2_grpc as pb_grpc
from accord.federation.routes import RouteTable
from accord.federation.tls import TlsMaterial
from accord.identity import Party, TaskReport
from accord.status import JobStatus, TaskStatus
from tests.cluster.federation import ARBITER, GUEST, HOST, PARTIES, Federation, federation_settings
from tests.cluster.test_three_sites import assert_no_cores_held, start_federation
from tests.pg_server import PostgresServer
from tests.scheduling.jobs import chain_dsl, conf
from tests.scheduling.test_replay import histories, replay_all
from tests.temporal_env import temporal_environment

pytestmark = pytest.mark.asyncio(loop_scope="session")

GUEST_PARTY = Party(role="guest", party_id=GUEST)
HOST_PARTY = Party(role="host", party_id=HOST)
ARBITER_PARTY = Party(role="arbiter", party_id=ARBITER)
QUOTA = 1024 * 1024


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def temporal_servers() -> AsyncIterator[dict[int, WorkflowEnvironment]]:
    async with (
        temporal_environment() as guest,
        temporal_environment() as host,
        temporal_environment() as arbiter,
    ):
        yield {GUEST: guest, HOST: host, ARBITER: arbiter}


def client_of(federation: Federation, party_id: int) -> FederationClient:
    """A federation client holding ``party_id``'s own certificate, as that party's site has."""
    settings = federation.settings[party_id]
    return FederationClient(
        RouteTable(settings.routes, default=settings.federation_address),
        timeout_s=5,
        attempts=1,
        tls=TlsMaterial.from_settings(settings),
    )


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> float:
    """Waits for ``condition``; the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not condition():
        assert loop.time() - start < timeout_s, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return loop.time() - start


def running_everywhere(federation: Federation, job_id: str, parties: tuple[int, ...]) -> Callable[[], bool]:
    def check() -> bool:
        for party_id in parties:
            tasks = federation.site(party_id).tasks.list_tasks(job_id)
            if not any(task.party_status == TaskStatus.RUNNING for task in tasks):
                return False
        return True

    return check


def refusals(caplog: pytest.LogCaptureFixture, job_id: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING
        and "refused" in record.getMessage()
        and job_id in record.getMessage()
    ]


async def test_the_host_cannot_report_or_steer_for_the_guest(
    tmp_path: Path,
    temporal_servers: dict[int, WorkflowEnvironment],
    postgres_server: PostgresServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    federation = await start_federation(tmp_path, temporal_servers, postgres_server)
    try:
        guest = federation.site(GUEST)
        job_id = await guest.submit(
            chain_dsl(["TestSleep"]), conf(arbiter=ARBITER, common={"c0": {"seconds": 6}})
        )
        await until(running_everywhere(federation, job_id, PARTIES), "c0 to run on every party", 120)
        caplog.set_level(logging.WARNING)

        async with client_of(federation, HOST) as host:
            # The guest's task failed, says the host, in an envelope that truthfully names the host.
            forged = TaskReport(
                job_id=job_id, party=GUEST_PARTY, component="c0", task_version=0, status=TaskStatus.FAILED
            )
            with pytest.raises(PartyImpersonation, match="reports a task of guest"):
                await host._call(wire.REPORT_STATUS, forged, HOST_PARTY, GUEST_PARTY, None)
            # The job has succeeded, says the host to the guest's and the arbiter's sites.
            for party in (GUEST_PARTY, ARBITER_PARTY):
                with pytest.raises(PartyImpersonation, match="only the job's initiator"):
                    await host.update_job_status(
                        UpdateJobStatus(job_id=job_id, party=party, status=JobStatus.SUCCESS),
                        source=HOST_PARTY,
                    )
            with pytest.raises(PartyImpersonation):
                await host.stop_task(
                    StopTask(job_id=job_id, party=GUEST_PARTY, component="c0", task_version=0),
                    source=HOST_PARTY,
                )
            # What the host may do: report its own task, and ask how the job's parties stand.
            own = TaskReport(
                job_id=job_id, party=HOST_PARTY, component="c0", task_version=0, status=TaskStatus.RUNNING
            )
            assert (await host.report_status(own, destination=GUEST_PARTY)).ok
            reply = await host.query_status(QueryStatus(job_id=job_id, party=GUEST_PARTY), source=HOST_PARTY)
            assert isinstance(reply, StatusReply)

        logged = refusals(caplog, job_id)
        assert len(logged) >= 4, logged
        assert all(f"host {HOST}" in message for message in logged), logged
        assert any("ReportStatus" in m for m in logged) and any("UpdateJobStatus" in m for m in logged)
        # Nothing the host said changed the guest's job: still running, and then it succeeds.
        assert guest.jobs.get(job_id, "guest", GUEST).status == JobStatus.RUNNING
        result = await asyncio.wait_for(guest.site.jobs.wait(job_id), timeout=120)
        assert result.status == JobStatus.SUCCESS, result
    finally:
        await federation.stop_all()


async def push_raw(
    channels: Channels, address: str, key: TransferKey, data: bytes, *, announce: int | None = None
) -> None:
    """One push as a forging site would send it: the header may announce any size."""
    stub = pb_grpc.FederationDataStub(channels.get(address))  # type: ignore[no-untyped-call]
    chunks = chunks_of(key, data, uuid.uuid4().hex)
    if announce is not None:
        chunks[0] = pb.Chunk(
            header=header_of(key, total_bytes=announce, request_id="forged"), data=chunks[0].data
        )
    await stub.Push(iter(chunks), timeout=10)


def key_for(job_id: str, source: Party, tag: str) -> TransferKey:
    return TransferKey(
        job_id=job_id, component="c0", task_version=0, tag=tag, source=source, destination=HOST_PARTY
    )


async def test_pushes_only_from_the_job_and_within_its_quota(
    tmp_path: Path,
    temporal_servers: dict[int, WorkflowEnvironment],
    postgres_server: PostgresServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    federation = await start_federation(
        tmp_path, temporal_servers, postgres_server, transfer_quota_bytes=QUOTA
    )
    try:
        # A two-party job (guest, host), created on the host's site by its initiator; never started.
        job_id = f"quota{uuid.uuid4().hex[:12]}"
        dsl, job_conf = chain_dsl(["TestSleep"]), conf()
        plan = federation.site(GUEST).site.jobs.compile(dsl, job_conf, job_id)
        async with client_of(federation, GUEST) as guest:
            await guest.create_job(
                CreateJob(
                    job_id=job_id,
                    party=HOST_PARTY,
                    initiator=GUEST_PARTY,
                    dsl=dsl,
                    runtime_conf=job_conf,
                    plan=plan,
                ),
                source=GUEST_PARTY,
            )
        host_address = federation.settings[HOST].federation_address
        transfer = federation.settings[HOST].home / "transfer"
        caplog.set_level(logging.WARNING)
        arbiter_channels = Channels(TlsMaterial.from_settings(federation.settings[ARBITER]))
        guest_channels = Channels(TlsMaterial.from_settings(federation.settings[GUEST]))
        try:
            # The arbiter is in no job here: neither this one nor one that does not exist.
            for job in (job_id, f"nojob{uuid.uuid4().hex[:12]}"):
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await push_raw(
                        arbiter_channels, host_address, key_for(job, ARBITER_PARTY, "w"), b"x" * 4096
                    )
                assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
                assert dict(refused.value.trailing_metadata() or ())[wire.RETCODE_KEY] == str(
                    NotAPartyOfJob.code
                )
                assert not (transfer / job).exists()
            # The guest is, but announces more than the quota: refused before a byte is written.
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await push_raw(
                    guest_channels,
                    host_address,
                    key_for(job_id, GUEST_PARTY, "big"),
                    b"x",
                    announce=QUOTA + 1,
                )
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert not (transfer / job_id).exists()
            # Sending more than it announced is cut off too.
            with pytest.raises(grpc.aio.AioRpcError):
                await push_raw(
                    guest_channels,
                    host_address,
                    key_for(job_id, GUEST_PARTY, "lie"),
                    b"x" * 9000,
                    announce=10,
                )
        finally:
            await arbiter_channels.close()
            await guest_channels.close()

        # Within the quota values are taken; past it the push is refused with TransferQuotaExceeded.
        async with client_of(federation, GUEST) as guest:
            await guest.push_value(key_for(job_id, GUEST_PARTY, "first"), b"a" * (700 * 1024))
            with pytest.raises(TransferQuotaExceeded):
                await guest.push_value(key_for(job_id, GUEST_PARTY, "second"), b"b" * (700 * 1024))
            # A sender's retry of a value it already sent replaces it and is not counted twice.
            await guest.push_value(key_for(job_id, GUEST_PARTY, "first"), b"a" * (700 * 1024))
        stored = [path for path in (transfer / job_id).rglob("*") if path.is_file()]
        assert [path.stat().st_size for path in stored] == [700 * 1024], stored

        logged = refusals(caplog, job_id)
        assert any(f"arbiter {ARBITER}" in m for m in logged), logged
        assert any("quota" in m and f"guest {GUEST}" in m for m in logged), logged

        # Once the job has ended here, nothing reads its values: they are purged, and no more taken.
        async with client_of(federation, GUEST) as guest:
            await guest.update_job_status(
                UpdateJobStatus(job_id=job_id, party=HOST_PARTY, status=JobStatus.CANCELED),
                source=GUEST_PARTY,
            )
            assert not (transfer / job_id).exists()
            with pytest.raises(JobStateError):
                await guest.push_value(key_for(job_id, GUEST_PARTY, "late"), b"c" * 100)
        assert not (transfer / job_id).exists()
    finally:
        await federation.stop_all()


async def test_a_stop_ends_the_job_at_once_where_it_can_and_later_on_a_site_that_was_down(
    tmp_path: Path,
    temporal_servers: dict[int, WorkflowEnvironment],
    postgres_server: PostgresServer,
) -> None:
    federation = await start_federation(tmp_path, temporal_servers, postgres_server)
    try:
        guest = federation.site(GUEST)
        job_id = await guest.submit(
            chain_dsl(["TestSleep"]), conf(arbiter=ARBITER, common={"c0": {"seconds": 300}})
        )
        await until(running_everywhere(federation, job_id, PARTIES), "c0 to run on every party", 120)
        await federation.stop(HOST)
        await guest.site.jobs.stop(job_id)

        def ended_on(party_id: int, role: str) -> Callable[[], bool]:
            return lambda: (
                federation.site(party_id).jobs.get(job_id, role, party_id).status == JobStatus.CANCELED
            )

        # The sites that are up end the job at once (not after the calls to the down site give up).
        await until(ended_on(GUEST, "guest"), "the guest's job to end", 10)
        await until(ended_on(ARBITER, "arbiter"), "the arbiter's job to end", 10)
        for party_id in (GUEST, ARBITER):
            await until(lambda p=party_id: _no_cores_held(federation, p), f"cores back on {party_id}", 10)
        result = await asyncio.wait_for(guest.site.jobs.wait(job_id), timeout=120)
        assert result.status == JobStatus.CANCELED, result
        assert f"host {HOST}" in result.reason, result.reason

        # The host's site comes back, and is told by retried delivery: it ends the job and frees its cores.
        await federation.start(HOST)
        await until(ended_on(HOST, "host"), "the host's job to end once it is back", 120)
        await until(lambda: _no_cores_held(federation, HOST), "cores back on the host", 30)
        assert_no_cores_held(federation.site(HOST))

        # The job workflow and the delivery it left behind replay deterministically with today's code.
        found = await histories(guest, job_id)
        async for execution in guest.site.temporal.list_workflows("WorkflowType = 'JobEndDelivery'"):
            if execution.id.startswith(f"{job_id}-end-"):
                handle = guest.site.temporal.get_workflow_handle(execution.id, run_id=execution.run_id)
                assert await handle.result() == [], "the host was told"
                found.append(await handle.fetch_history())
        assert len(found) >= 2, found
        await replay_all(found)
    finally:
        await federation.stop_all()


async def test_a_party_s_refusal_of_the_job_ends_it_at_once_naming_the_refusal(
    tmp_path: Path,
    temporal_servers: dict[int, WorkflowEnvironment],
    postgres_server: PostgresServer,
) -> None:
    ca_dir, settings = federation_settings(tmp_path, temporal_servers, postgres_server)
    # The guest's route to the host leads to the arbiter's site, which hosts no party 10000: it refuses
    # the host's CreateJob with PermissionDenied (108), and will refuse it however often it is asked.
    routes = settings[GUEST].routes
    settings[GUEST] = settings[GUEST].model_copy(update={"routes": {**routes, HOST: routes[ARBITER]}})
    federation = Federation(settings=settings, temporal=temporal_servers, ca_dir=ca_dir)
    try:
        for party_id in PARTIES:
            await federation.start(party_id)
        guest = federation.site(GUEST)
        job_id = await guest.submit(chain_dsl(["TestSleep"]), conf(arbiter=ARBITER))
        # Before, the refusal was asked again until the job's timeout (3 days), the job waiting.
        result = await asyncio.wait_for(guest.site.jobs.wait(job_id), timeout=90)
        assert result.status == JobStatus.FAILED, result
        assert f"CreateJob to host {HOST}: party {HOST} is not hosted by this site" in result.reason, result
        assert guest.jobs.get(job_id, "guest", GUEST).status == JobStatus.FAILED
        await replay_all(await histories(guest, job_id))
    finally:
        await federation.stop_all()


def _no_cores_held(federation: Federation, party_id: int) -> bool:
    engine = federation.site(party_id).resources.get_engine("STANDALONE")
    return engine.remaining_cores == engine.total_cores
