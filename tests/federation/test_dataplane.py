"""The data plane: values streamed in chunks over real gRPC into a real mailbox, and the codec."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.errors import ConnectionFailure, PermissionDenied, TransferError, TransferTimeout
from accord.federation import codec
from accord.federation.client import FederationClient
from accord.federation.dataplane import CHUNK_BYTES, DataPlaneServicer, chunks_of
from accord.federation.mailbox import Mailbox, TransferKey
from accord.federation.proto import federation_pb2_grpc as pb_grpc
from accord.federation.routes import RouteTable
from accord.identity import Party

GUEST = Party(role="guest", party_id=9999)
HOST = Party(role="host", party_id=10000)


def key(tag: str = "t", version: int = 0, source: Party = GUEST, destination: Party = HOST) -> TransferKey:
    return TransferKey("job1", "hetero_lr_0", version, tag, source, destination)


class Endpoint:
    def __init__(self, mailbox: Mailbox, server: grpc.aio.Server, client: FederationClient) -> None:
        self.mailbox = mailbox
        self.server = server
        self.client = client


@pytest.fixture
async def endpoint(tmp_path: Path) -> AsyncIterator[Endpoint]:
    mailbox = Mailbox(tmp_path / "transfer")
    server = grpc.aio.server()
    hosted = {HOST.party_id}
    pb_grpc.add_FederationDataServicer_to_server(  # type: ignore[no-untyped-call]
        DataPlaneServicer(mailbox, hosted.__contains__), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    client = FederationClient(RouteTable(default=f"127.0.0.1:{port}"), timeout_s=5, attempts=2)
    yield Endpoint(mailbox, server, client)
    await client.close()
    await server.stop(None)


async def test_a_large_value_arrives_whole_in_chunks(endpoint: Endpoint) -> None:
    array = np.random.default_rng(1).normal(size=(700, 1000))  # 5.6 MB: several chunks
    data = codec.encode({"x": array})
    assert len(chunks_of(key(), data, "r")) == -(-len(data) // CHUNK_BYTES) > 1
    await endpoint.client.push_value(key(), data)
    received = codec.decode(await asyncio.to_thread(endpoint.mailbox.wait, key(), timeout_s=5))
    np.testing.assert_array_equal(received["x"], array)


async def test_a_value_sent_before_its_receiver_asks_waits_for_it(endpoint: Endpoint) -> None:
    await endpoint.client.push_value(key("early"), codec.encode([1, 2, 3]))
    await asyncio.sleep(0.05)
    assert codec.decode(endpoint.mailbox.wait(key("early"), timeout_s=1)) == [1, 2, 3]


async def test_a_receiver_waiting_first_gets_the_value_when_it_comes(endpoint: Endpoint) -> None:
    waiting = asyncio.create_task(asyncio.to_thread(endpoint.mailbox.wait, key("late"), timeout_s=5))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await endpoint.client.push_value(key("late"), codec.encode("hello"))
    assert codec.decode(await waiting) == "hello"


async def test_a_value_of_an_older_task_version_is_not_taken(endpoint: Endpoint) -> None:
    await endpoint.client.push_value(key("g", version=0), codec.encode("old"))
    with pytest.raises(TransferTimeout) as raised:
        endpoint.mailbox.wait(key("g", version=1), timeout_s=0.2)
    assert "guest 9999" in raised.value.message and "'g'" in raised.value.message
    await endpoint.client.push_value(key("g", version=1), codec.encode("new"))
    assert codec.decode(endpoint.mailbox.wait(key("g", version=1), timeout_s=1)) == "new"


async def test_a_resent_value_replaces_itself(endpoint: Endpoint) -> None:
    for _ in range(2):
        await endpoint.client.push_value(key("again"), codec.encode(7), request_id="same")
    assert codec.decode(endpoint.mailbox.wait(key("again"), timeout_s=1)) == 7


async def test_a_party_the_site_does_not_host_is_refused(endpoint: Endpoint) -> None:
    with pytest.raises(PermissionDenied) as raised:
        await endpoint.client.push_value(key(destination=GUEST, source=HOST), codec.encode(1))
    assert "does not host guest 9999" in raised.value.message


async def test_an_unreachable_peer_fails_with_its_address(tmp_path: Path) -> None:
    client = FederationClient(RouteTable(default="127.0.0.1:1"), timeout_s=0.3, attempts=2, backoff_s=0.01)
    with pytest.raises(ConnectionFailure) as raised:
        await client.push_value(key(), codec.encode(1))
    await client.close()
    assert "127.0.0.1:1" in raised.value.message


async def test_a_stream_cut_short_leaves_nothing(endpoint: Endpoint, tmp_path: Path) -> None:
    chunks = chunks_of(key("cut"), b"x" * (CHUNK_BYTES + 10), "r")
    channel = endpoint.client._channels.get(endpoint.client.routes.default)
    stub = pb_grpc.FederationDataStub(channel)  # type: ignore[no-untyped-call]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Push(iter(chunks[:1]))
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE or "of" in (raised.value.details() or "")
    assert not endpoint.mailbox.path(key("cut")).exists()
    assert not list(endpoint.mailbox.path(key("cut")).parent.glob("*.part"))


def test_keys_from_the_network_cannot_leave_the_mailbox(tmp_path: Path) -> None:
    mailbox = Mailbox(tmp_path)
    hostile = TransferKey("../../etc", "c", 0, "../x", GUEST, HOST)
    assert mailbox.path(hostile).resolve().is_relative_to(tmp_path.resolve())
    with pytest.raises(Exception, match="reserved"):
        mailbox.path(TransferKey("..", "c", 0, "t", GUEST, HOST))


# ---- codec --------------------------------------------------------------------------------------

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(plain)
def test_plain_values_round_trip(value: Any) -> None:
    assert codec.decode(codec.encode(value)) == value


def test_arrays_big_integers_tuples_and_int_keys_round_trip() -> None:
    value = {
        "f": np.arange(12, dtype=np.float64).reshape(3, 4),
        "i": np.array([1, -2], dtype=np.int64),
        "big": [2**1000 + 1, -(2**80), 3],
        "one": -(2**70),
        "t": (1, "a"),
        "m": {1: "x", 2: "y"},
    }
    decoded = codec.decode(codec.encode(value))
    np.testing.assert_array_equal(decoded["f"], value["f"])
    assert decoded["f"].dtype == np.float64 and decoded["i"].dtype == np.int64
    assert decoded["big"] == value["big"] and decoded["one"] == value["one"]
    assert decoded["t"] == (1, "a") and decoded["m"] == {1: "x", 2: "y"}


def test_objects_are_never_pickled() -> None:
    class Secret:
        pass

    with pytest.raises(TransferError, match="Secret"):
        codec.encode(Secret())
    with pytest.raises(TransferError):
        codec.encode(np.array([Secret()], dtype=object))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"junk",
        b"ACV1\x00\x00\x00\x05{bad",
        b"ACV1\x00\x00\x01\x00[]",
        codec.encode(np.zeros(4))[:-3],
        b'ACV1\x00\x00\x00\x0f{"~":"pickle"}',
    ],
)
def test_broken_bytes_are_a_transfer_error(data: bytes) -> None:
    with pytest.raises(TransferError):
        codec.decode(data)
