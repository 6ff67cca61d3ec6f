"""The server process of a site: federation endpoint (gRPC) and HTTP API, wired to their services."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client

from accord.components import ComponentRegistry
from accord.errors import OperatingError
from accord.federation.client import FederationClient
from accord.federation.dataplane import DataPlaneServicer
from accord.federation.server import FederationServer
from accord.federation.tls import TlsMaterial
from accord.metrics import ProcessMetrics, metrics_directory, site_registry
from accord.model_store import ArchiveSigning, ModelService
from accord.persistence import (
    Database,
    TableGrantRepository,
)
from accord.serving import ServingPeers, ServingServer, ServingService
from accord.serving.federation import FederationServingServicer
from accord.settings import Settings
from accord.site.control import SITE_ENGINE, SiteControl
from accord.site.deploy import ModelDeployment
from accord.site.jobs import JobService
from accord.site.tracking import TrackingService
from accord.storage import TableStore
from accord.telemetry import configure_tracing
from accord.temporal_client import connect
from accord.wiring import SiteStores, federation_client

if TYPE_CHECKING:
    from accord.api.edge import EdgePolicy
    from accord.board.sessions import BoardSessions

log = logging.getLogger(__name__)


@dataclass
class Site:
    """Everything one site serves, started and stopped together."""

    settings: Settings
    temporal: Client
    database: Database
    registry: ComponentRegistry
    control: SiteControl
    jobs: JobService
    federation: FederationServer
    tracking: TrackingService
    tables: TableStore
    deployment: ModelDeployment
    client: FederationClient
    models: ModelService
    serving: ServingService
    grants: TableGrantRepository
    # This process's counters (federation calls of deploys), exported on /metrics with the workers'.
    process_metrics: ProcessMetrics | None = None

    async def stop(self) -> None:
        await self.federation.stop(grace=1.0)
        await self.control.transfers.stop()
        await self.client.close()
        await self.serving.close()
        self.database.dispose()


async def start_site(
    settings: Settings,
    *,
    temporal: Client | None = None,
    registry: ComponentRegistry | None = None,
    history_limit: int = 8000,
    tracer_provider: TracerProvider | None = None,
    process_metrics: ProcessMetrics | None = None,
) -> Site:
    database = Database.from_settings(settings)
    database.migrate()
    stores = SiteStores.open(settings, database)
    resources = stores.resources
    nodes = settings.computing_nodes
    await asyncio.to_thread(
        resources.register_engine, SITE_ENGINE, nodes * settings.computing_cores_per_node, nodes
    )
    client = temporal or await connect(settings)
    components = registry or ComponentRegistry.discover(settings.component_modules)
    jobs, tasks = stores.jobs, stores.tasks
    model_records, models = stores.model_records, stores.models
    control = SiteControl(settings, client, jobs, tasks, resources, models, reuse=stores.reuse)
    tls = TlsMaterial.from_settings(settings)
    data_plane = DataPlaneServicer(
        stores.mailbox,
        settings.hosts_party,
        secure=tls is not None,
        members=control.job_members,
        quota_bytes=settings.transfer_quota_bytes,
    )
    tables = stores.tables
    # Uploads a crash cut short left their bytes in the spool; none of this server's has started yet.
    await asyncio.to_thread(tables.clear_spool)
    serving = ServingService(
        settings, models, model_records, jobs, tables, ServingPeers.from_settings(settings)
    )
    # Before the endpoint opens, so a guest's first call after a restart finds the host's models.
    await serving.restore()
    federation = FederationServer(
        control,
        host=settings.federation_host,
        port=settings.federation_port,
        tracer_provider=tracer_provider,
        data_plane=data_plane,
        serving=FederationServingServicer(serving, hosts_party=settings.hosts_party, secure=tls is not None),
        tls=tls,
    )
    await federation.start()
    # Values of jobs that ended before a restart, or while their retention ran, go on the next sweep.
    control.transfers.start()
    tracking = TrackingService(
        settings.home,
        jobs,
        tasks,
        stores.metrics,
        models,
    )
    # The server's own client: deploy reaches every party of a model over the federation.
    peers = federation_client(settings, meter=process_metrics)
    deployment = ModelDeployment(jobs, models, model_records, peers)
    service = JobService(
        settings,
        client,
        jobs,
        tasks,
        components,
        history_limit=history_limit,
        deployment=deployment,
        tables=tables,
    )
    return Site(
        settings,
        client,
        database,
        components,
        control,
        service,
        federation,
        tracking,
        tables,
        deployment,
        peers,
        ModelService(
            models, jobs, signing=ArchiveSigning.for_site(settings), hosts_party=settings.hosts_party
        ),
        serving,
        stores.grants,
        process_metrics,
    )


def edge_policy(settings: Settings, *, sessions: BoardSessions | None = None) -> EdgePolicy:
    """What the HTTP edge checks on this site: signatures in cluster mode, else the local credential."""
    from accord.api.auth import RequestAuthenticator
    from accord.api.edge import EdgePolicy
    from accord.security.local_token import ensure_local_token

    authenticator = None
    if settings.http_auth:
        authenticator = RequestAuthenticator(
            settings.app_credentials,
            max_skew_s=settings.auth_max_skew_s,
            nonce_file=settings.home / "auth_nonces",
        )
    local_token = None
    if settings.insecure_open:
        log.warning(
            "insecure_open: the HTTP API on %s takes requests from anyone who can reach it, from any "
            "Host, without the local credential; drop --insecure-open unless that is meant",
            settings.http_address,
        )
    elif not settings.http_auth:
        local_token = ensure_local_token(settings.home)
    return EdgePolicy.of(
        settings,
        local_token=local_token,
        authenticator=authenticator,
        sessions=sessions.valid if sessions is not None else None,
    )


async def run_server(settings: Settings) -> None:
    """``accord server``: serve federation and the HTTP API until SIGTERM or SIGINT."""
    import uvicorn

    from accord.api.app import create_app
    from accord.api.flow import FlowServices
    from accord.board.router import site_board
    from accord.board.sessions import BoardSessions
    from accord.security.private import private_process

    # Before anything is written: keys, tables, models and exchanged values are the site's alone.
    private_process(settings.home)
    # Built before the site starts, so bad credentials stop the server before anything runs.
    # Cluster mode: the board logs in once with a signed request and holds a session cookie.
    sessions = BoardSessions() if settings.http_auth else None
    edge = edge_policy(settings, sessions=sessions)
    tracing = configure_tracing(settings, "accord-server")
    process_metrics = ProcessMetrics.for_site(settings.home, "server")
    site = await start_site(settings, process_metrics=process_metrics)
    board = site_board(site, sessions)
    metrics = site_registry(site.database, directory=metrics_directory(settings.home), own=process_metrics)
    config = uvicorn.Config(
        create_app(
            site.jobs,
            tracking=site.tracking,
            tables=site.tables,
            deployment=site.deployment,
            models=site.models,
            serving=site.serving,
            grants=site.grants,
            edge=edge,
            upload_roots=settings.upload_roots,
            board=board,
            flow=FlowServices.of(site),
            metrics=metrics,
        ),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        lifespan="off",
    )
    http = uvicorn.Server(config)
    # Server.serve() would take over SIGTERM/SIGINT; this process stops the HTTP side with the rest.
    config.load()
    http.lifespan = config.lifespan_class(config)
    try:
        await http.startup()
    except SystemExit:
        # uvicorn exits the process when it cannot bind; stop what started and say why instead.
        await site.stop()
        raise OperatingError(
            f"the HTTP API cannot listen on {settings.http_host}:{settings.http_port}",
            hint="free the port or set ACCORD_HTTP_PORT",
        ) from None
    inference = ServingServer.from_settings(site.serving, settings)
    try:
        await inference.start()
    except OperatingError:
        await http.shutdown()
        await site.stop()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("HTTP API on %s, federation on %s", settings.http_address, site.federation.address)
    beating = asyncio.create_task(process_metrics.run(stop))
    await stop.wait()
    await beating
    await inference.stop(grace=1.0)
    board.close()  # open boards' event streams end, so the shutdown does not wait for them
    await http.shutdown()
    await site.stop()
    if tracing is not None:
        tracing.shutdown()
