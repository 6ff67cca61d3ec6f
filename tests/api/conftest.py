"""Fixtures: the shared real ``site`` (tests/conftest.py) with its HTTP API in process and behind uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from accord.api.app import create_app
from tests.http_server import serve_http
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
    app = create_app(site.site.jobs, tracking=site.site.tracking, tables=site.site.tables)
    async with serve_http(app, site.settings.http_host, site.settings.http_port) as address:
        yield address
