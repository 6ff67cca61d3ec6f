"""What client and server agree on: the RPC table, body encoding and how errors cross the wire.

Bodies are the JSON of the command models; the protobuf envelope only carries what the transport
needs. Coded errors travel as a gRPC status plus the trailing metadata ``accord-retcode`` and
``accord-retmsg``, so a peer in any language can read FATE-style retcodes without parsing a body.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote, unquote

import grpc
from pydantic import BaseModel, ValidationError

from accord.errors import AccordError, ArgumentError, OperatingError, error_from_code, grpc_status_name
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
from accord.federation.proto import federation_pb2 as pb
from accord.identity import Party, TaskReport

Req = TypeVar("Req", bound=BaseModel)
Rep = TypeVar("Rep", bound=BaseModel)

SERVICE = "accord.federation.v1.FederationControl"
RETCODE_KEY = "accord-retcode"
RETMSG_KEY = "accord-retmsg"
SOURCE_SITE_KEY = "accord-source-site"

# A CreateJob carries the whole DSL, conf and plan; gRPC's 4 MiB default is too tight for big DSLs.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
MESSAGE_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
)

# gRPC's default metadata limit is 8 KiB for all headers together; leave room for the rest.
_MAX_RETMSG_CHARS = 4000
# Metadata values must be printable ASCII; percent-encoding keeps ASCII messages readable as they are.
_RETMSG_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


@dataclass(frozen=True)
class Method(Generic[Req, Rep]):
    """One control RPC: its gRPC name, the ControlHandler method serving it, and its body models."""

    name: str
    handler: str
    request: type[Req]
    reply: type[Rep]


CREATE_JOB = Method("CreateJob", "create_job", CreateJob, Ack)
APPLY_RESOURCE = Method("ApplyResource", "apply_resource", ApplyResource, ResourceReply)
RETURN_RESOURCE = Method("ReturnResource", "return_resource", ReturnResource, Ack)
START_TASK = Method("StartTask", "start_task", StartTask, Ack)
STOP_TASK = Method("StopTask", "stop_task", StopTask, Ack)
REPORT_STATUS = Method("ReportStatus", "report_status", TaskReport, Ack)
QUERY_STATUS = Method("QueryStatus", "query_status", QueryStatus, StatusReply)
UPDATE_JOB_STATUS = Method("UpdateJobStatus", "update_job_status", UpdateJobStatus, Ack)
PING = Method("Ping", "ping", Ping, Pong)
DEPLOY_MODEL = Method("DeployModel", "deploy_model", DeployModel, Ack)
PROBE_REUSE = Method("ProbeReuse", "probe_reuse", ProbeReuse, ReuseOffer)

METHODS: tuple[Method[Any, Any], ...] = (
    CREATE_JOB,
    APPLY_RESOURCE,
    RETURN_RESOURCE,
    START_TASK,
    STOP_TASK,
    REPORT_STATUS,
    QUERY_STATUS,
    UPDATE_JOB_STATUS,
    PING,
    DEPLOY_MODEL,
    PROBE_REUSE,
)


def _check_against_proto() -> None:
    # The table and the .proto are two sources of truth; fail at import rather than at the first call.
    declared = set(pb.DESCRIPTOR.services_by_name["FederationControl"].methods_by_name)
    listed = {method.name for method in METHODS}
    if declared != listed:
        raise RuntimeError(
            f"federation.proto declares {sorted(declared)} but wire.METHODS has {sorted(listed)}"
        )


_check_against_proto()


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def decode(model: type[Req], body: bytes, *, what: str) -> Req:
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '<body>'}: {item['msg']}" for item in error.errors()
        )
        raise ArgumentError(
            f"{what} has a bad {model.__name__} body: {problems}"[:_MAX_RETMSG_CHARS],
            hint="the sending site may run an incompatible Accord version",
        ) from None


def to_address(party: Party) -> pb.PartyAddress:
    return pb.PartyAddress(role=party.role, party_id=party.party_id)


def from_address(envelope: pb.Envelope, field: Literal["source", "destination"]) -> Party:
    if not envelope.HasField(field):
        raise ArgumentError(f"the envelope has no {field} party")
    address: pb.PartyAddress = getattr(envelope, field)
    return Party(role=address.role, party_id=address.party_id)


# ---- errors ---------------------------------------------------------------------------------


def status_of(error: AccordError) -> grpc.StatusCode:
    return grpc.StatusCode[grpc_status_name(error)]


def error_metadata(error: AccordError) -> tuple[tuple[str, str], ...]:
    retmsg = quote(error.retmsg, safe=_RETMSG_SAFE)
    if len(retmsg) > _MAX_RETMSG_CHARS:
        retmsg = retmsg[:_MAX_RETMSG_CHARS]
        # Never leave half of a %XX escape at the cut.
        escape = retmsg.rfind("%", len(retmsg) - 2)
        retmsg = retmsg[:escape] if escape >= 0 else retmsg
    return ((RETCODE_KEY, str(error.code)), (RETMSG_KEY, retmsg))


def error_from_metadata(
    metadata: Iterable[tuple[str, str | bytes]] | None, details: str
) -> AccordError | None:
    """The coded error a peer sent, or None when the status did not come from an Accord handler."""
    values = {key: value for key, value in metadata or () if isinstance(value, str)}
    raw_code = values.get(RETCODE_KEY)
    if raw_code is None or not raw_code.isdigit():
        return None
    retmsg = unquote(values.get(RETMSG_KEY, ""), errors="replace") or details
    return error_from_code(int(raw_code), retmsg)


def new_server() -> grpc.aio.Server:
    # Without so_reuseport 0 gRPC sets SO_REUSEPORT, and a second site on the same port would silently
    # share it.
    server: grpc.aio.Server = grpc.aio.server(options=[("grpc.so_reuseport", 0), *MESSAGE_OPTIONS])
    return server


def listen(
    server: grpc.aio.Server, target: str, credentials: grpc.ServerCredentials | None, *, what: str, hint: str
) -> int:
    """Bind ``server`` to ``target`` (TLS with ``credentials``); the bound port, or a coded error."""
    try:
        if credentials is None:
            bound = server.add_insecure_port(target)
        else:
            bound = server.add_secure_port(target, credentials)
    except RuntimeError as error:
        bound, reason = 0, str(error)
    else:
        reason = "the port may be in use"
    if not bound:
        raise OperatingError(f"{what} cannot listen on {target}: {reason}", hint=hint)
    return bound
