"""One gRPC channel per peer address, plaintext or with the site's TLS identity, closed together."""

from __future__ import annotations

import asyncio

import grpc

from accord.federation import wire
from accord.federation.tls import TlsMaterial

# gRPC's reconnect backoff starts at 1 s; a restarted peer should be found again sooner than that.
CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    *wire.MESSAGE_OPTIONS,
)


class Channels:
    def __init__(self, tls: TlsMaterial | None = None) -> None:
        self._credentials = tls.channel_credentials() if tls is not None else None
        self._open: dict[str, grpc.aio.Channel] = {}

    def get(self, address: str) -> grpc.aio.Channel:
        channel = self._open.get(address)
        if channel is None:
            options = list(CHANNEL_OPTIONS)
            if self._credentials is None:
                channel = grpc.aio.insecure_channel(address, options=options)
            else:
                channel = grpc.aio.secure_channel(address, self._credentials, options=options)
            self._open[address] = channel
        return channel

    async def close(self) -> None:
        channels = list(self._open.values())
        self._open.clear()
        await asyncio.gather(*(channel.close() for channel in channels))
