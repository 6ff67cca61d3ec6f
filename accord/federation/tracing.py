"""OpenTelemetry context across sites, so one job is one trace whichever parties it touches.

The W3C ``traceparent``/``tracestate`` headers ride in gRPC metadata through the globally configured
propagator; exporters are set up by the process entry point, not here.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import propagate
from opentelemetry.context import Context


def outgoing_metadata() -> list[tuple[str, str]]:
    """The current trace context as gRPC metadata (empty when there is no active span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    # gRPC rejects upper-case metadata keys; W3C headers are lower-case already, but be sure.
    return [(key.lower(), value) for key, value in carrier.items()]


def incoming_context(metadata: Iterable[tuple[str, str | bytes]] | None) -> Context:
    """The caller's trace context from the request metadata (an empty context when none was sent)."""
    carrier = {key: value for key, value in metadata or () if isinstance(value, str)}
    return propagate.extract(carrier)
