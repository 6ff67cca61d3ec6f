"""The ``/metrics`` route: the site's registry in Prometheus's text format.

It sits behind the HTTP edge like every other route (:mod:`accord.api.edge`): standalone, the local
credential (``Authorization: Bearer <home>/local_token``); cluster mode, a signed request. A refused
scrape is logged there, as every refusal is.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from accord.metrics.collector import SiteCollector
from accord.metrics.process import ProcessMetrics
from accord.persistence import Database

METRICS_PATH = "/metrics"


def site_registry(
    database: Database, *, directory: Path | None, own: ProcessMetrics | None
) -> CollectorRegistry:
    """A registry of the site's collector alone: no process or platform collectors of the library's
    global registry, whose values would describe only the server process."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SiteCollector(database, directory=directory, own=own))
    return registry


def metrics_router(registry: CollectorRegistry) -> APIRouter:
    router = APIRouter()

    @router.get(
        METRICS_PATH,
        response_class=Response,
        responses={200: {"description": "Prometheus text format", "content": {CONTENT_TYPE_LATEST: {}}}},
    )
    async def metrics() -> Response:
        """The site's operations metrics (jobs, queue, tasks, federation, Paillier, processes)."""
        # The collector reads the database and the snapshot files: off the event loop.
        body = await asyncio.to_thread(generate_latest, registry)
        return Response(content=body, media_type=CONTENT_TYPE_LATEST)

    return router
