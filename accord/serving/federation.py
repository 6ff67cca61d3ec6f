"""The host's side of FederationServing, served on the site's federation endpoint.

Each call is checked as the control plane checks its commands: in cluster mode the claimed source
party must be one the caller's certificate names, and the destination must be a party of this site.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import grpc
from pydantic import BaseModel

from accord.errors import AccordError, PartyNotHosted
from accord.federation import wire
from accord.federation.proto import federation_pb2 as pb
from accord.federation.proto import federation_serving_pb2_grpc as serving_grpc
from accord.federation.tls import check_source
from accord.identity import Party
from accord.serving.messages import LoadPart, Partials, PartialScore, PartLoaded

log = logging.getLogger(__name__)

Req = TypeVar("Req", LoadPart, PartialScore)


class ServingHandler(Protocol):
    async def load_part(self, command: LoadPart, source: Party) -> PartLoaded: ...
    async def partial_score(self, command: PartialScore, source: Party) -> Partials: ...


class FederationServingServicer(serving_grpc.FederationServingServicer):
    def __init__(self, handler: ServingHandler, *, hosts_party: Callable[[int], bool], secure: bool) -> None:
        self._handler = handler
        self._hosts_party = hosts_party
        self._secure = secure

    async def LoadModel(self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]) -> pb.Reply:
        return await self._serve("LoadModel", LoadPart, self._handler.load_part, request, context)

    async def PartialScore(
        self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Reply:
        return await self._serve("PartialScore", PartialScore, self._handler.partial_score, request, context)

    async def _serve(
        self,
        method: str,
        model: type[Req],
        handle: Callable[[Req, Party], Awaitable[BaseModel]],
        envelope: pb.Envelope,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.Reply:
        try:
            source = wire.from_address(envelope, "source")
            destination = wire.from_address(envelope, "destination")
            check_source(context, source.party_id, secure=self._secure, what=f"{method} request")
            command = wire.decode(model, envelope.body, what=f"{method} from {source}")
            if command.party != destination or not self._hosts_party(destination.party_id):
                raise PartyNotHosted(
                    f"{method} for {command.party} reached a site that does not host it",
                    hint="check the guest site's route for this party",
                )
            reply = await handle(command, source)
        except AccordError as error:
            log.info("serving %s %s refused: %s %s", method, envelope.request_id, error.code, error)
            await context.abort(wire.status_of(error), error.retmsg, wire.error_metadata(error))
        except Exception as error:
            log.exception("serving %s %s failed", method, envelope.request_id)
            internal = AccordError(
                f"{method} failed at the receiving site: {type(error).__name__}: {error}",
                hint=f"see that site's log for request {envelope.request_id}",
            )
            await context.abort(grpc.StatusCode.INTERNAL, internal.retmsg, wire.error_metadata(internal))
        return pb.Reply(body=wire.encode(reply))
