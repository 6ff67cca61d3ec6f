"""Sends control commands to the site hosting a party, retrying what is safe to retry."""

from __future__ import annotations

import asyncio
import uuid
from types import TracebackType
from typing import Any, Protocol

import grpc

from accord.errors import ArgumentError, ConnectionFailure, FederatedError
from accord.federation import tracing, wire
from accord.federation.channels import Channels
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
from accord.federation.dataplane import chunks_of
from accord.federation.mailbox import TransferKey
from accord.federation.proto import federation_pb2 as pb
from accord.federation.proto import federation_pb2_grpc as pb_grpc
from accord.federation.routes import RouteTable
from accord.federation.tls import TlsMaterial
from accord.identity import Party, TaskReport

# Statuses that say nothing reached a handler, or that the peer is overloaded: resending is safe.
_TRANSIENT = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)
_MAX_BACKOFF_S = 5.0
# Ping names only a party id; the envelope still needs parties, so it carries these placeholders.
_NO_ROLE = ""
_SITE_SOURCE = Party(role=_NO_ROLE, party_id=0)

# What a call came to, for the site's metrics (accord.metrics): answered; refused by the peer with a
# coded error; failed at the gRPC level; unreachable after every attempt; answered with a bad reply.
OK, REFUSED, FAILED, UNREACHABLE, BAD_REPLY = "ok", "refused", "failed", "unreachable", "bad_reply"


class CallMeter(Protocol):
    """Counts federation calls; the client reports each call once, with its bytes over all attempts."""

    def federation_call(self, peer: int, method: str, outcome: str, sent: int, received: int) -> None: ...


class FederationClient:
    """One client per process; channels are opened per peer address on first use and then reused.

    Every call carries a request id: pass a deterministic one where the caller itself may be retried
    (a Temporal activity), so the receiving site's reply cache recognises the repeat.
    """

    def __init__(
        self,
        routes: RouteTable,
        *,
        source_site: str = "",
        timeout_s: float = 10.0,
        attempts: int = 5,
        backoff_s: float = 0.05,
        tls: TlsMaterial | None = None,
        meter: CallMeter | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.routes = routes
        self.source_site = source_site
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.meter = meter
        self._channels = Channels(tls)
        self._stubs: dict[str, pb_grpc.FederationControlStub] = {}
        self._data_stubs: dict[str, pb_grpc.FederationDataStub] = {}

    async def __aenter__(self) -> FederationClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._stubs.clear()
        self._data_stubs.clear()
        await self._channels.close()

    # ---- commands -----------------------------------------------------------------------------

    async def create_job(self, command: CreateJob, *, source: Party, request_id: str | None = None) -> Ack:
        return await self._call(wire.CREATE_JOB, command, source, command.party, request_id)

    async def apply_resource(
        self, command: ApplyResource, *, source: Party, request_id: str | None = None
    ) -> ResourceReply:
        return await self._call(wire.APPLY_RESOURCE, command, source, command.party, request_id)

    async def return_resource(
        self, command: ReturnResource, *, source: Party, request_id: str | None = None
    ) -> Ack:
        return await self._call(wire.RETURN_RESOURCE, command, source, command.party, request_id)

    async def start_task(self, command: StartTask, *, source: Party, request_id: str | None = None) -> Ack:
        return await self._call(wire.START_TASK, command, source, command.party, request_id)

    async def stop_task(self, command: StopTask, *, source: Party, request_id: str | None = None) -> Ack:
        return await self._call(wire.STOP_TASK, command, source, command.party, request_id)

    async def report_status(
        self, command: TaskReport, *, destination: Party, request_id: str | None = None
    ) -> Ack:
        return await self._call(wire.REPORT_STATUS, command, command.party, destination, request_id)

    async def query_status(
        self, command: QueryStatus, *, source: Party, request_id: str | None = None
    ) -> StatusReply:
        return await self._call(wire.QUERY_STATUS, command, source, command.party, request_id)

    async def update_job_status(
        self, command: UpdateJobStatus, *, source: Party, request_id: str | None = None
    ) -> Ack:
        return await self._call(wire.UPDATE_JOB_STATUS, command, source, command.party, request_id)

    async def deploy_model(
        self, command: DeployModel, *, source: Party, request_id: str | None = None
    ) -> Ack:
        return await self._call(wire.DEPLOY_MODEL, command, source, command.party, request_id)

    async def probe_reuse(
        self, command: ProbeReuse, *, source: Party, request_id: str | None = None
    ) -> ReuseOffer:
        return await self._call(wire.PROBE_REUSE, command, source, command.party, request_id)

    async def ping(self, party_id: int) -> Pong:
        destination = Party(role=_NO_ROLE, party_id=party_id)
        return await self._call(wire.PING, Ping(party_id=party_id), _SITE_SOURCE, destination, None)

    # ---- data plane ---------------------------------------------------------------------------

    async def push_value(self, key: TransferKey, data: bytes, *, request_id: str | None = None) -> None:
        """Stream one encoded value to the site of ``key.destination``, resending on transient faults."""
        address = self.routes.address(key.destination.party_id)
        request_id = request_id or uuid.uuid4().hex
        # Bulk values need more than a command's deadline: allow for a slow link of about 8 MiB/s.
        timeout = self.timeout_s + len(data) / (8 << 20)
        metadata = tracing.outgoing_metadata()
        failure = ""
        peer = key.destination.party_id
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(
                    min(self.backoff_s * 2 ** (attempt - 1), max(self.backoff_s, _MAX_BACKOFF_S))
                )
            stub = self._data_stub(address)
            sent = len(data) * (attempt + 1)
            try:
                await stub.Push(
                    iter(chunks_of(key, data, request_id)),
                    timeout=timeout,
                    metadata=metadata,
                    wait_for_ready=True,
                )
                self._meter(peer, "Push", OK, sent, 0)
                return
            except grpc.aio.AioRpcError as rpc_error:
                coded = wire.error_from_metadata(rpc_error.trailing_metadata(), rpc_error.details() or "")
                if coded is not None:
                    if not coded.retryable or attempt == self.attempts - 1:
                        self._meter(peer, "Push", REFUSED, sent, 0)
                        raise coded from None
                    continue
                failure = f"{rpc_error.code().name}: {rpc_error.details()}"
                if rpc_error.code() not in _TRANSIENT:
                    self._meter(peer, "Push", FAILED, sent, 0)
                    raise FederatedError(
                        f"sending {key.describe()} to {address} failed with {failure}",
                        party=key.destination.party_id,
                        address=address,
                    ) from None
        self._meter(peer, "Push", UNREACHABLE, len(data) * self.attempts, 0)
        raise ConnectionFailure(
            f"cannot send {key.describe()}: {self.attempts} attempts to {address} failed, the last with "
            f"{failure}",
            hint="check that the party's site is running and that its route is right",
            party=key.destination.party_id,
            address=address,
        )

    # ---- transport ----------------------------------------------------------------------------

    def _stub(self, address: str) -> pb_grpc.FederationControlStub:
        stub = self._stubs.get(address)
        if stub is None:
            channel = self._channels.get(address)
            stub = self._stubs[address] = pb_grpc.FederationControlStub(channel)  # type: ignore[no-untyped-call]
        return stub

    def _data_stub(self, address: str) -> pb_grpc.FederationDataStub:
        stub = self._data_stubs.get(address)
        if stub is None:
            channel = self._channels.get(address)
            stub = self._data_stubs[address] = pb_grpc.FederationDataStub(channel)  # type: ignore[no-untyped-call]
        return stub

    async def _call(
        self,
        method: wire.Method[Any, wire.Rep],
        command: Any,
        source: Party,
        destination: Party,
        request_id: str | None,
    ) -> wire.Rep:
        address = self.routes.address(destination.party_id)
        envelope = pb.Envelope(
            # One id for all attempts below: the receiving site answers a repeat from its cache.
            request_id=request_id or uuid.uuid4().hex,
            job_id=getattr(command, "job_id", ""),
            source=wire.to_address(source),
            destination=wire.to_address(destination),
            body=wire.encode(command),
        )
        metadata = tracing.outgoing_metadata()
        if self.source_site:
            metadata.append((wire.SOURCE_SITE_KEY, self.source_site))
        failure = ""
        peer, size = destination.party_id, envelope.ByteSize()
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(
                    min(self.backoff_s * 2 ** (attempt - 1), max(self.backoff_s, _MAX_BACKOFF_S))
                )
            sent = size * (attempt + 1)
            rpc = getattr(self._stub(address), method.name)
            try:
                # wait_for_ready: a peer that is restarting is waited for up to the deadline instead of
                # failing at once, which rides out short outages without burning attempts.
                reply: pb.Reply = await rpc(
                    envelope, timeout=self.timeout_s, metadata=metadata, wait_for_ready=True
                )
            except grpc.aio.AioRpcError as rpc_error:
                coded = wire.error_from_metadata(rpc_error.trailing_metadata(), rpc_error.details() or "")
                if coded is not None:
                    if not coded.retryable or attempt == self.attempts - 1:
                        self._meter(peer, method.name, REFUSED, sent, 0)
                        raise coded from None
                    continue
                failure = f"{rpc_error.code().name}: {rpc_error.details()}"
                if rpc_error.code() not in _TRANSIENT:
                    self._meter(peer, method.name, FAILED, sent, 0)
                    raise FederatedError(
                        f"{method.name} to {_party_name(destination)} at {address} failed with {failure}",
                        hint="the peer may not be an Accord site of a compatible version",
                        party=destination.party_id,
                        address=address,
                    ) from None
                continue
            try:
                decoded = wire.decode(method.reply, reply.body, what=f"the {method.name} reply of {address}")
            except ArgumentError as error:
                self._meter(peer, method.name, BAD_REPLY, sent, reply.ByteSize())
                # Not the caller's argument that is wrong but the peer's answer.
                raise FederatedError(error.message, hint=error.hint, address=address) from None
            self._meter(peer, method.name, OK, sent, reply.ByteSize())
            return decoded
        self._meter(peer, method.name, UNREACHABLE, size * self.attempts, 0)
        raise ConnectionFailure(
            f"cannot reach {_party_name(destination)} at {address}: "
            f"{self.attempts} attempts of {method.name} failed, the last with {failure}",
            hint="check that the party's site is running and that its route is right",
            party=destination.party_id,
            address=address,
        )

    def _meter(self, peer: int, method: str, outcome: str, sent: int, received: int) -> None:
        if self.meter is not None:
            self.meter.federation_call(peer, method, outcome, sent, received)


def _party_name(party: Party) -> str:
    return str(party) if party.role else f"party {party.party_id}"
