"""The caller's trace continues at the receiving site: one job is one trace across parties."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from accord.errors import ConflictError
from accord.federation.client import FederationClient
from accord.federation.commands import StartTask
from accord.federation.routes import RouteTable
from accord.federation.server import FederationServer

from .conftest import GUEST, HOST, RecordingHandler

JOB = "202401010000000000001"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    # A provider of this test only: the global one can be set once per process and is left alone.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
async def traced_client(
    handler: RecordingHandler, provider: TracerProvider
) -> AsyncIterator[FederationClient]:
    site = FederationServer(handler, tracer_provider=provider)
    await site.start()
    async with FederationClient(RouteTable(default=site.address)) as client:
        yield client
    await site.stop(0)


async def test_server_span_continues_the_callers_trace(
    traced_client: FederationClient,
    handler: RecordingHandler,
    provider: TracerProvider,
    exporter: InMemorySpanExporter,
) -> None:
    command = StartTask(job_id=JOB, party=HOST, component="reader_0", task_id="t", task_version=0)
    with provider.get_tracer("test").start_as_current_span("schedule reader_0") as caller:
        await traced_client.start_task(command, source=GUEST, request_id="req-7")
    [span] = [span for span in exporter.get_finished_spans() if span.name == "federation.StartTask"]
    caller_context = caller.get_span_context()
    assert span.context.trace_id == caller_context.trace_id
    assert span.parent is not None and span.parent.span_id == caller_context.span_id
    assert span.kind == trace.SpanKind.SERVER
    assert dict(span.attributes or {}) == {
        "job_id": JOB,
        "source": "guest 9999",
        "destination": "host 10000",
        "request_id": "req-7",
    }
    # The handler runs inside that span, so whatever it sends on continues the same trace.
    [call] = handler.calls
    assert call.span.span_id == span.context.span_id


async def test_failed_handler_marks_its_span(
    traced_client: FederationClient, handler: RecordingHandler, exporter: InMemorySpanExporter
) -> None:
    handler.behaviour["start_task"] = [ConflictError("exists")]
    command = StartTask(job_id=JOB, party=HOST, component="reader_0", task_id="t", task_version=0)
    with pytest.raises(ConflictError):
        await traced_client.start_task(command, source=GUEST)
    [span] = exporter.get_finished_spans()
    assert span.status.status_code == trace.StatusCode.ERROR
    assert span.attributes is not None and span.attributes["accord.retcode"] == 10302
    # Without a caller span the server span starts a trace of its own.
    assert span.parent is None
