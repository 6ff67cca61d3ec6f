"""The federation server of a site: decodes control commands and hands them to the site's handler."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import grpc
from opentelemetry import trace
from opentelemetry.context import Context

from accord.errors import AccordError, OperatingError
from accord.federation import tracing, wire
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
from accord.federation.proto import federation_pb2_grpc as pb_grpc
from accord.federation.proto import federation_serving_pb2_grpc as serving_grpc
from accord.federation.tls import TlsMaterial, check_source
from accord.identity import Party, TaskReport

log = logging.getLogger(__name__)

_Key = tuple[str, str, int, str]


class ControlHandler(Protocol):
    """What a site does with each command. ``source`` is the sending party from the envelope.

    Handlers must be idempotent: the server's reply cache absorbs most retries but is bounded and is
    lost on restart. Raise an AccordError to send a coded error back to the caller.
    """

    async def create_job(self, command: CreateJob, source: Party) -> Ack: ...
    async def apply_resource(self, command: ApplyResource, source: Party) -> ResourceReply: ...
    async def return_resource(self, command: ReturnResource, source: Party) -> Ack: ...
    async def start_task(self, command: StartTask, source: Party) -> Ack: ...
    async def stop_task(self, command: StopTask, source: Party) -> Ack: ...
    async def report_status(self, command: TaskReport, source: Party) -> Ack: ...
    async def query_status(self, command: QueryStatus, source: Party) -> StatusReply: ...
    async def update_job_status(self, command: UpdateJobStatus, source: Party) -> Ack: ...
    async def ping(self, command: Ping, source: Party) -> Pong: ...
    async def deploy_model(self, command: DeployModel, source: Party) -> Ack: ...
    async def probe_reuse(self, command: ProbeReuse, source: Party) -> ReuseOffer: ...


class _ReplyCache:
    """request key → the task producing its encoded reply; LRU-bounded.

    Keeping the task rather than the bytes is what makes a duplicate that arrives while the first is
    still running wait for it instead of running the handler a second time.
    """

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[_Key, asyncio.Task[bytes]] = OrderedDict()

    def get_or_start(self, key: _Key, start: Callable[[], asyncio.Task[bytes]]) -> asyncio.Task[bytes]:
        task = self._entries.get(key)
        if task is not None:
            self._entries.move_to_end(key)
            return task
        task = start()
        self._entries[key] = task
        task.add_done_callback(lambda done: self._forget_failure(key, done))
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return task

    def _forget_failure(self, key: _Key, task: asyncio.Task[bytes]) -> None:
        # Only replies are remembered: after a failure the sender's retry must reach the handler again.
        if (task.cancelled() or task.exception() is not None) and self._entries.get(key) is task:
            del self._entries[key]


class _Servicer(pb_grpc.FederationControlServicer):
    def __init__(self, server: FederationServer) -> None:
        self._server = server

    async def CreateJob(self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]) -> pb.Reply:
        return await self._server._serve(wire.CREATE_JOB, request, context)

    async def ApplyResource(
        self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Reply:
        return await self._server._serve(wire.APPLY_RESOURCE, request, context)

    async def ReturnResource(
        self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Reply:
        return await self._server._serve(wire.RETURN_RESOURCE, request, context)

    async def StartTask(self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]) -> pb.Reply:
        return await self._server._serve(wire.START_TASK, request, context)

    async def StopTask(self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]) -> pb.Reply:
        return await self._server._serve(wire.STOP_TASK, request, context)

    async def ReportStatus(
        self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Reply:
        return await self._server._serve(wire.REPORT_STATUS, request, context)

    async def QueryStatus(
        self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Reply:
        return await self._server._serve(wire.QUERY_STATUS, request, context)

    async def UpdateJobStatus(
        self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Reply:
        return await self._server._serve(wire.UPDATE_JOB_STATUS, request, context)

    async def Ping(self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]) -> pb.Reply:
        return await self._server._serve(wire.PING, request, context)

    async def DeployModel(
        self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Reply:
        return await self._server._serve(wire.DEPLOY_MODEL, request, context)

    async def ProbeReuse(self, request: pb.Envelope, context: grpc.aio.ServicerContext[Any, Any]) -> pb.Reply:
        return await self._server._serve(wire.PROBE_REUSE, request, context)


class FederationServer:
    """Serves FederationControl on ``host:port`` for one site (every local party shares it)."""

    def __init__(
        self,
        handler: ControlHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cache_size: int = 10_000,
        tracer_provider: trace.TracerProvider | None = None,
        data_plane: pb_grpc.FederationDataServicer | None = None,
        serving: serving_grpc.FederationServingServicer | None = None,
        tls: TlsMaterial | None = None,
    ) -> None:
        self._handler = handler
        self._tls = tls
        self._data_plane = data_plane
        self._serving = serving
        self._host = host
        self._port = port
        self._cache = _ReplyCache(cache_size)
        # None means the global provider, looked up lazily, so configuring telemetry later still works.
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        self._running: set[asyncio.Task[bytes]] = set()
        self._server: grpc.aio.Server | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> str:
        return f"{self._host}:{self._port}"

    async def start(self) -> int:
        """Binds and starts serving; returns the bound port (the picked one when constructed with 0)."""
        if self._server is not None:
            raise OperatingError(f"the federation server on {self.address} is already started")
        server = wire.new_server()
        # The generated module is untyped; _Servicer's own methods are typed.
        pb_grpc.add_FederationControlServicer_to_server(_Servicer(self), server)  # type: ignore[no-untyped-call]
        if self._data_plane is not None:
            pb_grpc.add_FederationDataServicer_to_server(self._data_plane, server)  # type: ignore[no-untyped-call]
        if self._serving is not None:
            serving_grpc.add_FederationServingServicer_to_server(self._serving, server)  # type: ignore[no-untyped-call]
        bound = wire.listen(
            server,
            f"{self._host}:{self._port}",
            None if self._tls is None else self._tls.server_credentials(),
            what="the federation server",
            hint="free the port or set another federation_port",
        )
        await server.start()
        self._server, self._port = server, bound
        log.info("federation server listening on %s", self.address)
        return bound

    async def stop(self, grace: float | None = None) -> None:
        """Stops accepting calls, lets running ones finish within ``grace`` seconds, cancels the rest."""
        server, self._server = self._server, None
        if server is None:
            return
        await server.stop(grace)
        # Handler runs outlive their RPC on purpose (see _reply); at shutdown they have to go too.
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _serve(
        self,
        method: wire.Method[Any, Any],
        envelope: pb.Envelope,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.Reply:
        try:
            body = await self._reply(method, envelope, context)
        except AccordError as error:
            log.info("federation %s %s refused: %s %s", method.name, envelope.request_id, error.code, error)
            await context.abort(wire.status_of(error), error.retmsg, wire.error_metadata(error))
        except Exception as error:
            log.exception("federation %s %s failed", method.name, envelope.request_id)
            internal = AccordError(
                f"{method.name} failed at the receiving site: {type(error).__name__}: {error}",
                hint=f"see that site's log for request {envelope.request_id}",
            )
            await context.abort(grpc.StatusCode.INTERNAL, internal.retmsg, wire.error_metadata(internal))
        return pb.Reply(body=body)

    async def _reply(
        self,
        method: wire.Method[Any, Any],
        envelope: pb.Envelope,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> bytes:
        source = wire.from_address(envelope, "source")
        destination = wire.from_address(envelope, "destination")
        check_source(
            context,
            source.party_id,
            secure=self._tls is not None,
            what=f"{method.name} request for job {envelope.job_id or '-'}",
        )
        command = wire.decode(method.request, envelope.body, what=f"{method.name} from {source}")
        parent = tracing.incoming_context(context.invocation_metadata())

        def start() -> asyncio.Task[bytes]:
            run = self._run(method, command, source, destination, envelope, parent)
            task = asyncio.create_task(run, name=f"federation.{method.name}:{envelope.request_id}")
            self._running.add(task)
            task.add_done_callback(self._finished)
            return task

        if not envelope.request_id:
            return await asyncio.shield(start())
        key = (method.name, destination.role, destination.party_id, envelope.request_id)
        # shield: when the caller's deadline passes, the handler keeps going and the caller's retry
        # (same request id) joins it instead of starting a second run.
        return await asyncio.shield(self._cache.get_or_start(key, start))

    def _finished(self, task: asyncio.Task[bytes]) -> None:
        self._running.discard(task)
        # Mark a failure as retrieved: when every caller has gone, asyncio would otherwise log it as lost.
        if not task.cancelled():
            task.exception()

    async def _run(
        self,
        method: wire.Method[Any, Any],
        command: Any,
        source: Party,
        destination: Party,
        envelope: pb.Envelope,
        parent: Context,
    ) -> bytes:
        attributes = {
            "job_id": envelope.job_id,
            "source": str(source),
            "destination": str(destination),
            "request_id": envelope.request_id,
        }
        # The span lives in the handler's task, so it covers the whole run even when the RPC that
        # started it has timed out, and anything the handler sends on continues the caller's trace.
        with self._tracer.start_as_current_span(
            f"federation.{method.name}", context=parent, kind=trace.SpanKind.SERVER, attributes=attributes
        ) as span:
            try:
                reply = await getattr(self._handler, method.handler)(command, source)
            except AccordError as error:
                span.set_attribute("accord.retcode", error.code)
                raise
            if not isinstance(reply, method.reply):
                raise TypeError(
                    f"{type(self._handler).__name__}.{method.handler} returned {type(reply).__name__}, "
                    f"not {method.reply.__name__}"
                )
            return wire.encode(reply)
