"""``accord serve``: the Inference endpoint in a process of its own, beside the site's server.

It answers for the guest parts the site has published (``<home>/serving/published.json``) and follows
that file as the site server loads and binds models; hosts keep answering on their federation
endpoints. Useful to put scoring on another port, host interface or machine sharing the home, or to
run several scoring processes: ``accord server`` already serves Inference on ``serving_port`` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from accord.federation.tls import TlsMaterial
from accord.model_store import ModelStore
from accord.persistence import Database, JobRepository, ModelRepository
from accord.serving.inference import ServingServer
from accord.serving.peers import ServingPeers
from accord.serving.service import GUEST, ServingService
from accord.settings import Settings
from accord.storage import TableStore

log = logging.getLogger(__name__)


async def run_serving(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    database = Database.from_settings(settings)
    records = ModelRepository(database)
    service = ServingService(
        settings,
        ModelStore(settings.home / "models", records),
        records,
        JobRepository(database),
        TableStore.for_site(settings, database),
        ServingPeers.from_settings(settings),
        roles=(GUEST,),
    )
    server = ServingServer(
        service,
        host=host or settings.serving_host,
        port=settings.serving_port if port is None else port,
        tls=TlsMaterial.from_settings(settings),
    )
    try:
        await service.restore()
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        watcher = asyncio.create_task(service.watch())
        log.info("serving %d published guest models on %s", len(service.registry.parts), server.address)
        await stop.wait()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    finally:
        await server.stop(grace=1.0)
        await service.close()
        database.dispose()
