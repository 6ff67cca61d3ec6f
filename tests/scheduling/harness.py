"""A whole standalone site in the test process: real Temporal, real gRPC, real SQLite."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client
from temporalio.worker import Worker

from accord.components import ComponentRegistry
from accord.persistence import JobRepository, ResourceRepository, TaskRepository
from accord.server import Site, start_site
from accord.settings import Settings
from accord.status import JobStatus
from accord.wiring import federation_client
from accord.worker import WorkerDeps, build_worker
from accord.workflows.job_io import JobResult
from tests.support import free_port

COMPONENTS = "tests.scheduling.components"


def site_settings(home: Path, temporal_address: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": home,
        "temporal_address": temporal_address,
        "task_queue": f"test-{uuid.uuid4().hex[:10]}",
        "federation_port": free_port(),
        "http_port": free_port(),
        "component_modules": (COMPONENTS,),
        "computing_cores_per_node": 16,
        **overrides,
    }
    return Settings(**values)


@dataclass
class RunningSite:
    site: Site
    worker: Worker

    @property
    def settings(self) -> Settings:
        return self.site.settings

    @property
    def resources(self) -> ResourceRepository:
        return ResourceRepository(self.site.database)

    @property
    def jobs(self) -> JobRepository:
        return JobRepository(self.site.database)

    @property
    def tasks(self) -> TaskRepository:
        return TaskRepository(self.site.database)

    async def submit(self, dsl: dict[str, Any], conf: dict[str, Any]) -> str:
        return (await self.site.jobs.submit(dsl, conf)).job_id

    async def run(self, dsl: dict[str, Any], conf: dict[str, Any]) -> JobResult:
        return await self.site.jobs.wait(await self.submit(dsl, conf))

    def job_status(self, job_id: str) -> dict[tuple[str, int], JobStatus]:
        return {(r.role, r.party_id): r.status for r in self.jobs.parties(job_id)}


async def start_running_site(
    client: Client,
    settings: Settings,
    *,
    history_limit: int = 8000,
    tracer_provider: TracerProvider | None = None,
) -> RunningSite:
    registry = ComponentRegistry.discover(settings.component_modules)
    site = await start_site(
        settings,
        temporal=client,
        registry=registry,
        history_limit=history_limit,
        tracer_provider=tracer_provider,
    )
    worker = build_worker(
        WorkerDeps(
            settings=settings,
            temporal=client,
            database=site.database,
            registry=registry,
            federation=federation_client(settings),
        )
    )
    await worker.__aenter__()
    return RunningSite(site, worker)


async def stop_running_site(running: RunningSite) -> None:
    await running.worker.__aexit__(None, None, None)
    await running.site.stop()
