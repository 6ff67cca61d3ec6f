"""Connecting to Temporal the one way every process does: pydantic payloads, tracing if enabled."""

from __future__ import annotations

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from accord.settings import Settings

# Pure modules the workflows use; importing them once for all workflow runs keeps replay cheap.
PASSTHROUGH_MODULES = ("accord", "pydantic", "pydantic_core", "annotated_types", "numpy")


def interceptors(settings: Settings) -> list[Interceptor]:
    if settings.otel_exporter == "none":
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        interceptors=interceptors(settings),
    )


def workflow_runner() -> SandboxedWorkflowRunner | UnsandboxedWorkflowRunner:
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    return SandboxedWorkflowRunner(restrictions=restrictions)
