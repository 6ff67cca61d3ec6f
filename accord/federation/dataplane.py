"""The receiving end of the data plane: a value streamed in chunks lands in this site's mailbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from accord.errors import (
    AccordError,
    ArgumentError,
    JobStateError,
    NotAPartyOfJob,
    PermissionDenied,
    TransferError,
    TransferQuotaExceeded,
)
from accord.federation import wire
from accord.federation.mailbox import Mailbox, TransferKey
from accord.federation.proto import federation_pb2 as pb
from accord.federation.proto import federation_pb2_grpc as pb_grpc
from accord.federation.tls import check_source
from accord.identity import Party

log = logging.getLogger(__name__)

# Small enough to stay far below gRPC's message limit, big enough that per-message costs vanish.
CHUNK_BYTES = 1 << 20


def key_of(header: pb.TransferHeader) -> TransferKey:
    if not header.HasField("source") or not header.HasField("destination"):
        raise ArgumentError("a transfer header has no source or destination party")
    return TransferKey(
        job_id=header.job_id,
        component=header.component,
        task_version=header.task_version,
        tag=header.tag,
        source=Party(role=header.source.role, party_id=header.source.party_id),
        destination=Party(role=header.destination.role, party_id=header.destination.party_id),
    )


def header_of(key: TransferKey, *, total_bytes: int, request_id: str) -> pb.TransferHeader:
    return pb.TransferHeader(
        request_id=request_id,
        job_id=key.job_id,
        component=key.component,
        task_version=key.task_version,
        tag=key.tag,
        source=wire.to_address(key.source),
        destination=wire.to_address(key.destination),
        total_bytes=total_bytes,
    )


def chunks_of(key: TransferKey, data: bytes, request_id: str) -> list[pb.Chunk]:
    header = header_of(key, total_bytes=len(data), request_id=request_id)
    view = memoryview(data)
    pieces = [view[start : start + CHUNK_BYTES] for start in range(0, len(view), CHUNK_BYTES)] or [view[:0]]
    return [
        pb.Chunk(header=header, data=bytes(piece)) if index == 0 else pb.Chunk(data=bytes(piece))
        for index, piece in enumerate(pieces)
    ]


@dataclass(frozen=True)
class JobMembers:
    """Who a job's values may come from and go to on this site."""

    # Every (role, party id) of the job, from its plan.
    parties: frozenset[tuple[str, int]]
    # This site's parties of the job whose job has not ended here: the only ones still reading.
    open_here: frozenset[tuple[str, int]]


MembersOf = Callable[[str], Awaitable[JobMembers | None]]


class _Quota:
    """Bytes each job's values take here, counted from disk once and then kept up to date in memory.

    A push reserves its announced size before anything is written, so concurrent pushes cannot
    overrun the quota between them; a failed push gives its reservation back.
    """

    def __init__(self, mailbox: Mailbox, limit: int) -> None:
        self._mailbox = mailbox
        self.limit = limit
        self._used: dict[str, int] = {}

    async def reserve(self, key: TransferKey, size: int) -> None:
        job_dir = self._mailbox.root / key.relative_path().parts[0]
        if key.job_id not in self._used or not job_dir.exists():
            # First sight since start, or purged since: what the disk holds is the truth.
            self._used[key.job_id] = await asyncio.to_thread(self._mailbox.job_bytes, key.job_id)
        used = self._used[key.job_id]
        replaced = 0
        with contextlib.suppress(FileNotFoundError):
            # A sender's retry replaces the value it sent before: only the difference is new.
            replaced = self._mailbox.path(key).stat().st_size
        if used - replaced + size > self.limit:
            raise TransferQuotaExceeded(
                f"{key.describe()} is {size} bytes, but job {key.job_id} already holds {used} of its "
                f"{self.limit} bytes on this site",
                hint="raise the receiving site's transfer_quota_bytes if the job really exchanges that much",
                job_id=key.job_id,
            )
        self._used[key.job_id] = used + size

    def release(self, key: TransferKey, size: int) -> None:
        if key.job_id in self._used:
            self._used[key.job_id] = max(self._used[key.job_id] - size, 0)


class DataPlaneServicer(pb_grpc.FederationDataServicer):
    """Accepts values addressed to parties this site hosts (``hosts(party_id)``).

    ``secure``: the endpoint runs mutual TLS, so a value's source party must be one the caller's
    certificate names. ``members``: a value is accepted only for a job this site is a party of, from a
    party of that job to one of this site's parties of it that has not ended; ``quota_bytes`` bounds
    what one job's values take here. Every check passes before a byte is written.
    """

    def __init__(
        self,
        mailbox: Mailbox,
        hosts: Callable[[int], bool],
        *,
        secure: bool = False,
        members: MembersOf | None = None,
        quota_bytes: int | None = None,
    ) -> None:
        self._mailbox = mailbox
        self._hosts = hosts
        self._secure = secure
        self._members = members
        self._quota = None if quota_bytes is None else _Quota(mailbox, quota_bytes)

    async def Push(
        self, request_iterator: AsyncIterator[pb.Chunk], context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.PushAck:
        partial: Path | None = None
        try:
            key, received, partial = await self._receive(request_iterator, context)
            try:
                self._deliver(key, partial)
            except FileNotFoundError:
                # The job's values were purged while this one arrived: its job has just ended here.
                raise TransferError(
                    f"{key.describe()} arrived as its job ended on this site", job_id=key.job_id
                ) from None
            partial = None
            return pb.PushAck(received_bytes=received)
        except AccordError as error:
            log.info("data plane push refused: %s %s", error.code, error)
            await context.abort(wire.status_of(error), error.retmsg, wire.error_metadata(error))
            raise  # abort raises; this line only tells type checkers so
        finally:
            if partial is not None:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()

    async def _receive(
        self, request_iterator: AsyncIterator[pb.Chunk], context: grpc.aio.ServicerContext[Any, Any]
    ) -> tuple[TransferKey, int, Path]:
        key: TransferKey | None = None
        header: pb.TransferHeader | None = None
        partial: Path | None = None
        received = reserved = 0
        stream = None
        try:
            async for chunk in request_iterator:
                if header is None:
                    if not chunk.HasField("header"):
                        raise TransferError("a transfer began without its header")
                    header = chunk.header
                    key = key_of(header)
                    await self._admit(key, header, context)
                    # Counted from here on: a refusal or a broken stream below gives it back.
                    reserved = header.total_bytes
                    partial = self._mailbox.incoming(key)
                    stream = partial.open("wb")
                assert stream is not None and key is not None and header is not None
                received += len(chunk.data)
                if received > header.total_bytes:
                    # Never more than was announced (and counted against the quota).
                    raise TransferError(
                        f"{key.describe()} sent more than the {header.total_bytes} bytes it announced"
                    )
                stream.write(chunk.data)
            if header is None or key is None or partial is None:
                raise TransferError("a transfer ended before its header arrived")
            if received != header.total_bytes:
                raise TransferError(
                    f"{key.describe()} arrived with {received} of {header.total_bytes} bytes",
                    hint="the sender retries a broken transfer",
                )
        except BaseException:
            # A broken or refused stream leaves nothing behind (a cancelled RPC lands here too).
            if self._quota is not None and key is not None and reserved:
                self._quota.release(key, reserved)
            if stream is not None:
                stream.close()
            if partial is not None:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()
            raise
        assert stream is not None
        stream.close()
        return key, received, partial

    def _deliver(self, key: TransferKey, partial: Path) -> None:
        final = self._mailbox.path(key)
        replaced = 0
        with contextlib.suppress(FileNotFoundError):
            replaced = final.stat().st_size
        self._mailbox.deliver(key, partial)
        if self._quota is not None and replaced:
            # A sender's retry replaced a value already counted once.
            self._quota.release(key, replaced)

    async def _admit(
        self, key: TransferKey, header: pb.TransferHeader, context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        """Every check a value passes before any of it touches the disk."""
        check_source(
            context, key.source.party_id, secure=self._secure, what=f"a data transfer for job {key.job_id}"
        )
        if not self._hosts(key.destination.party_id):
            raise PermissionDenied(
                f"this site does not host {key.destination.role} {key.destination.party_id}",
                hint="check the sending site's route for that party",
            )
        if self._members is not None:
            members = await self._members(key.job_id)
            source = (key.source.role, key.source.party_id)
            destination = (key.destination.role, key.destination.party_id)
            if members is None or source not in members.parties or destination not in members.parties:
                who = "no job here" if members is None else "a job it is not a party of"
                log.warning(
                    "refused a data transfer for job %s from %s to %s: %s",
                    key.job_id,
                    key.source,
                    key.destination,
                    who,
                )
                raise NotAPartyOfJob(
                    f"{key.describe()} refused: {key.source} and {key.destination} are not both parties "
                    f"of job {key.job_id} on this site",
                    hint="values are accepted only between parties of a job created on this site",
                    job_id=key.job_id,
                )
            if destination not in members.open_here:
                log.warning(
                    "refused a data transfer for job %s from %s: the job has ended for %s",
                    key.job_id,
                    key.source,
                    key.destination,
                )
                raise JobStateError(
                    f"{key.describe()} refused: job {key.job_id} has ended for {key.destination}",
                    hint="nothing reads values of an ended job",
                    job_id=key.job_id,
                )
        if self._quota is not None:
            if header.total_bytes < 0:
                raise TransferError(f"{key.describe()} announces a negative size")
            try:
                await self._quota.reserve(key, header.total_bytes)
            except TransferQuotaExceeded:
                log.warning(
                    "refused a data transfer for job %s from %s: %d bytes exceed the job's quota of %d",
                    key.job_id,
                    key.source,
                    header.total_bytes,
                    self._quota.limit,
                )
                raise
