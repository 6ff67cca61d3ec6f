"""The guest's side of FederationServing: asks a host's site to load its part or score sample ids.

The same routes and TLS material as the control plane's client, on channels of its own: a scoring
call has a deadline of a few seconds and is retried once, where control commands wait much longer.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, TypeVar

import grpc
from pydantic import BaseModel

from accord.errors import ArgumentError, ConnectionFailure, FederatedError
from accord.federation import wire
from accord.federation.channels import Channels
from accord.federation.proto import federation_pb2 as pb
from accord.federation.proto import federation_serving_pb2_grpc as serving_grpc
from accord.federation.routes import RouteTable
from accord.federation.tls import TlsMaterial
from accord.identity import Party
from accord.serving.messages import LoadPart, Partials, PartialScore, PartLoaded
from accord.settings import Settings

Rep = TypeVar("Rep", bound=BaseModel)

SCORE_TIMEOUT_S = 3.0
# Loading parses the host's whole lookup table.
LOAD_TIMEOUT_S = 300.0
_RETRY_AFTER_S = 0.05
_TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


class ServingPeers:
    def __init__(
        self,
        routes: RouteTable,
        *,
        tls: TlsMaterial | None = None,
        score_timeout_s: float = SCORE_TIMEOUT_S,
        load_timeout_s: float = LOAD_TIMEOUT_S,
    ) -> None:
        self.routes = routes
        self.score_timeout_s = score_timeout_s
        self.load_timeout_s = load_timeout_s
        self._channels = Channels(tls)
        self._stubs: dict[str, serving_grpc.FederationServingStub] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ServingPeers:
        return cls(RouteTable.from_settings(settings), tls=TlsMaterial.from_settings(settings))

    async def close(self) -> None:
        self._stubs.clear()
        await self._channels.close()

    async def load_part(self, command: LoadPart, *, source: Party) -> PartLoaded:
        return await self._call("LoadModel", command, PartLoaded, source, command.party, self.load_timeout_s)

    async def partial_score(self, command: PartialScore, *, source: Party) -> Partials:
        reply = await self._call(
            "PartialScore", command, Partials, source, command.party, self.score_timeout_s
        )
        asked = len(command.sample_ids)
        if reply.sealed:
            if len(reply.sealed) != asked or reply.partials or reply.vectors:
                raise FederatedError(
                    f"{command.party} answered {len(reply.sealed)} sealed vectors for {asked} sample ids, "
                    "or mixed them with values in the clear",
                    hint="the host's site may run an incompatible Accord version",
                )
        elif reply.columns or reply.vectors:
            width = len(reply.columns)
            if len(reply.vectors) != asked or any(len(vector) != width for vector in reply.vectors):
                raise FederatedError(
                    f"{command.party} answered {len(reply.vectors)} vectors for {asked} sample ids, not each "
                    f"of the {width} values its columns name",
                    hint="the host's site may run an incompatible Accord version",
                )
        elif len(reply.partials) != asked:
            raise FederatedError(
                f"{command.party} answered {len(reply.partials)} partial scores for {asked} sample ids",
                hint="the host's site may run an incompatible Accord version",
            )
        return reply

    def _stub(self, address: str) -> serving_grpc.FederationServingStub:
        stub = self._stubs.get(address)
        if stub is None:
            channel = self._channels.get(address)
            stub = self._stubs[address] = serving_grpc.FederationServingStub(channel)  # type: ignore[no-untyped-call]
        return stub

    async def _call(
        self,
        method: str,
        command: BaseModel,
        reply_model: type[Rep],
        source: Party,
        destination: Party,
        timeout_s: float,
    ) -> Rep:
        address = self.routes.address(destination.party_id)
        envelope = pb.Envelope(
            request_id=uuid.uuid4().hex,
            source=wire.to_address(source),
            destination=wire.to_address(destination),
            body=wire.encode(command),
        )
        failure = ""
        # Both calls only read (scoring) or are idempotent (loading), so one resend is always safe.
        for attempt in range(2):
            if attempt:
                await asyncio.sleep(_RETRY_AFTER_S)
            rpc: Any = getattr(self._stub(address), method)
            try:
                reply: pb.Reply = await rpc(envelope, timeout=timeout_s)
            except grpc.aio.AioRpcError as rpc_error:
                coded = wire.error_from_metadata(rpc_error.trailing_metadata(), rpc_error.details() or "")
                if coded is not None:
                    if not coded.retryable or attempt:
                        raise coded from None
                    continue
                failure = f"{rpc_error.code().name}: {rpc_error.details()}"
                if rpc_error.code() not in _TRANSIENT:
                    raise FederatedError(
                        f"{method} to {destination} at {address} failed with {failure}",
                        hint="the peer may not be an Accord site with online inference",
                        party=destination.party_id,
                        address=address,
                    ) from None
                continue
            try:
                return wire.decode(reply_model, reply.body, what=f"the {method} reply of {destination}")
            except ArgumentError as error:
                raise FederatedError(error.message, hint=error.hint, address=address) from None
        raise ConnectionFailure(
            f"{destination} at {address} did not answer {method}: {failure}",
            hint="check that the party's site runs and that its route is right",
            party=destination.party_id,
            address=address,
        )
