"""Fixtures: the shared real ``site`` (tests/conftest.py) with its HTTP API in process and behind uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
import uvicorn

from accord.api.app import create_app
from tests.scheduling.harness import RunningSite


@pytest_asyncio.fixture(loop_scope="session")
async def api(site: RunningSite) -> AsyncIterator[httpx.AsyncClient]:
    """The app over ASGI: no socket, but every layer of the app itself."""
    transport = httpx.ASGITransport(
        app=create_app(site.site.jobs, tracking=site.site.tracking, tables=site.site.tables)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def server(site: RunningSite) -> AsyncIterator[str]:
    """A real uvicorn on the site's free HTTP port, started the way ``accord server`` starts it."""
    settings = site.settings
    config = uvicorn.Config(
        create_app(site.site.jobs, tracking=site.site.tracking, tables=site.site.tables),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        lifespan="off",
    )
    http = uvicorn.Server(config)
    config.load()
    http.lifespan = config.lifespan_class(config)
    await http.startup()
    yield settings.http_address
    await http.shutdown()
