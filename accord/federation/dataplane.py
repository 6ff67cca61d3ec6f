"""The receiving end of the data plane: a value streamed in chunks lands in this site's mailbox."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc

from accord.errors import AccordError, ArgumentError, PermissionDenied, TransferError
from accord.federation import wire
from accord.federation.commands import Party
from accord.federation.mailbox import Mailbox, TransferKey
from accord.federation.proto import federation_pb2 as pb
from accord.federation.proto import federation_pb2_grpc as pb_grpc
from accord.federation.tls import check_source

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


class DataPlaneServicer(pb_grpc.FederationDataServicer):
    """Accepts values addressed to parties this site hosts (``hosts(party_id)``).

    ``secure``: the endpoint runs mutual TLS, so a value's source party must be one the caller's
    certificate names.
    """

    def __init__(self, mailbox: Mailbox, hosts: Callable[[int], bool], *, secure: bool = False) -> None:
        self._mailbox = mailbox
        self._hosts = hosts
        self._secure = secure

    async def Push(
        self, request_iterator: AsyncIterator[pb.Chunk], context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.PushAck:
        partial: Path | None = None
        try:
            key, received, partial = await self._receive(request_iterator, context)
            self._mailbox.deliver(key, partial)
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
        received = 0
        stream = None
        try:
            async for chunk in request_iterator:
                if header is None:
                    if not chunk.HasField("header"):
                        raise TransferError("a transfer began without its header")
                    header = chunk.header
                    key = key_of(header)
                    check_source(context, key.source.party_id, secure=self._secure, what="a data transfer")
                    if not self._hosts(key.destination.party_id):
                        raise PermissionDenied(
                            f"this site does not host {key.destination.role} {key.destination.party_id}",
                            hint="check the sending site's route for that party",
                        )
                    partial = self._mailbox.incoming(key)
                    stream = partial.open("wb")
                assert stream is not None
                stream.write(chunk.data)
                received += len(chunk.data)
            if header is None or key is None or partial is None:
                raise TransferError("a transfer ended before its header arrived")
            if received != header.total_bytes:
                raise TransferError(
                    f"{key.describe()} arrived with {received} of {header.total_bytes} bytes",
                    hint="the sender retries a broken transfer",
                )
        except BaseException:
            # A broken or refused stream leaves nothing behind (a cancelled RPC lands here too).
            if stream is not None:
                stream.close()
            if partial is not None:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()
            raise
        assert stream is not None
        stream.close()
        return key, received, partial
