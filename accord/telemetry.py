"""Tracing set-up from settings: one job is one trace across workflows, activities and sites."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from accord.settings import Settings

DEFAULT_OTLP_ENDPOINT = "127.0.0.1:4317"


def exporter_for(settings: Settings) -> SpanExporter | None:
    if settings.otel_exporter == "console":
        return ConsoleSpanExporter()
    if settings.otel_exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=settings.otel_endpoint or DEFAULT_OTLP_ENDPOINT, insecure=True)
    return None


def configure_tracing(settings: Settings, service_name: str) -> TracerProvider | None:
    """Install the process's tracer provider; None when tracing is off (the default)."""
    exporter = exporter_for(settings)
    if exporter is None:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider
