"""One job is one trace: workflows, activities and federation calls of every party share it."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from accord.status import JobStatus
from tests.scheduling.harness import site_settings, start_running_site, stop_running_site
from tests.scheduling.jobs import chain_dsl, conf

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_job_is_one_trace(temporal_env: WorkflowEnvironment, tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client = Client(
        temporal_env.client.service_client,
        namespace=temporal_env.client.namespace,
        data_converter=pydantic_data_converter,
        interceptors=[TracingInterceptor(tracer=provider.get_tracer("accord-test"))],
    )
    settings = site_settings(tmp_path, client.service_client.config.target_host)
    site = await start_running_site(client, settings, tracer_provider=provider)
    try:
        result = await site.run(chain_dsl(["TestSleep", "TestSleep"]), conf(arbiter=10000))
    finally:
        await stop_running_site(site)
    assert result.status == JobStatus.SUCCESS
    spans = exporter.get_finished_spans()
    names = {span.name for span in spans}
    assert "StartWorkflow:Job" in names
    assert {"federation.CreateJob", "federation.StartTask", "federation.ReportStatus"} <= names
    assert any(name.startswith("RunActivity:run_task") for name in names)
    root = next(span for span in spans if span.name == "StartWorkflow:Job")
    traced = [
        s for s in spans if s.name.startswith(("federation.", "RunActivity:run_task", "RunWorkflow:PartyJob"))
    ]
    assert traced
    assert {span.context.trace_id for span in traced} == {root.context.trace_id}
