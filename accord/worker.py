"""The worker process: where workflows, activities and their dependencies are wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.worker import Worker

from accord.activities.earlier import SiteEarlierJobs
from accord.activities.federation import FederationActivities
from accord.activities.queue import QueueActivities
from accord.activities.services import SiteEngines
from accord.activities.tasks import ServiceParts, TaskActivities
from accord.components import ComponentRegistry
from accord.crypto.pool import set_parallelism
from accord.federation.client import FederationClient
from accord.metrics import ProcessMetrics
from accord.persistence import (
    Database,
)
from accord.settings import Settings
from accord.site.reconcile import Reconciler
from accord.telemetry import configure_tracing
from accord.temporal_client import connect, workflow_runner
from accord.wiring import SiteStores, federation_client
from accord.workflows.delivery import JobEndDeliveryWorkflow
from accord.workflows.job import JobWorkflow
from accord.workflows.party import PartyWorkflow
from accord.workflows.queue import JobQueueWorkflow

log = logging.getLogger(__name__)

WORKFLOWS = [JobWorkflow, PartyWorkflow, JobQueueWorkflow, JobEndDeliveryWorkflow]


@dataclass
class WorkerDeps:
    settings: Settings
    temporal: Client
    database: Database
    registry: ComponentRegistry
    federation: FederationClient


def service_parts(settings: Settings, stores: SiteStores) -> ServiceParts:
    return ServiceParts(
        tables=stores.tables,
        mailbox=stores.mailbox,
        metrics=stores.metrics,
        models=stores.models,
        transfer_timeout_s=settings.transfer_timeout_s,
        local_party_ids=settings.local_party_ids,
        grants=stores.grants,
        engines=SiteEngines(settings, work_dir=settings.home / "computing"),
        earlier=SiteEarlierJobs(settings, stores.jobs, stores.models),
    )


def build_reconciler(deps: WorkerDeps) -> Reconciler:
    """Returns the queue slots and cores of jobs whose workflow was ended outside Accord."""
    stores = SiteStores.open(deps.settings, deps.database)
    return Reconciler(
        deps.temporal,
        deps.settings.task_queue,
        stores.jobs,
        stores.resources,
        deps.federation,
        interval_s=deps.settings.reconcile_interval_s,
    )


def build_worker(deps: WorkerDeps) -> Worker:
    stores = SiteStores.open(deps.settings, deps.database)
    federation = FederationActivities(deps.federation, stores.jobs)
    tasks = TaskActivities(
        home=deps.settings.home,
        jobs=stores.jobs,
        tasks=stores.tasks,
        registry=deps.registry,
        client=deps.federation,
        services=service_parts(deps.settings, stores),
        reuse=stores.reuse,
    )
    queue = QueueActivities(deps.temporal, deps.settings.task_queue)
    return Worker(
        deps.temporal,
        task_queue=deps.settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            federation.create_job_on_parties,
            federation.apply_resources,
            federation.return_resources,
            federation.start_tasks,
            federation.stop_tasks,
            federation.update_job_status,
            federation.query_task_status,
            federation.probe_reuse,
            federation.deliver_job_end,
            tasks.run_task,
            tasks.report_task,
            queue.enqueue_job,
            queue.search_attributes_ready,
        ],
        workflow_runner=workflow_runner(),
        # Components block in threads; the activity coroutines only heartbeat around them.
        max_concurrent_activities=64,
    )


async def run_worker(settings: Settings) -> None:
    """``accord worker``: serve this site's task queue until SIGTERM or SIGINT."""
    from accord.security.private import private_process

    # Before anything is written: tables, models and exchanged values are the site's alone.
    private_process(settings.home)
    set_parallelism(settings.crypto_workers)
    tracing = configure_tracing(settings, "accord-worker")
    database = Database.from_settings(settings)
    database.migrate()
    # Federation calls and Paillier operations of this worker, for the server's /metrics.
    metrics = ProcessMetrics.for_site(settings.home, "worker")
    deps = WorkerDeps(
        settings=settings,
        temporal=await connect(settings),
        database=database,
        registry=ComponentRegistry.discover(settings.component_modules),
        federation=federation_client(settings, meter=metrics),
    )
    worker = build_worker(deps)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ready = settings.home / "run" / "worker.ready"
    async with worker:
        ready.parent.mkdir(parents=True, exist_ok=True)
        ready.write_text("ready\n")
        log.info("worker polling task queue %s", settings.task_queue)
        reconciling = asyncio.create_task(build_reconciler(deps).run(stop))
        # The snapshot it writes every few seconds is also this worker's heartbeat on /metrics.
        beating = asyncio.create_task(metrics.run(stop))
        with metrics.counting_paillier():
            await stop.wait()
        # Every step of a pass is idempotent: one cut short here is completed by the next worker's.
        reconciling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reconciling
        await beating
    with contextlib.suppress(FileNotFoundError):
        ready.unlink()
    await deps.federation.close()
    database.dispose()
    if tracing is not None:
        tracing.shutdown()
