"""Fixtures shared by every test folder: PostgreSQL, the Temporal dev server, whole sites, engines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.engines import engine, local_engine, spark_engine
from tests.pg_server import PostgresServer, PostgresUnavailable, find_bin_dir
from tests.scheduling.harness import RunningSite, site_settings, start_running_site, stop_running_site
from tests.temporal_env import temporal_env

__all__ = [
    "engine",
    "local_engine",
    "make_site",
    "postgres_server",
    "site",
    "spark_engine",
    "temporal_env",
]

SiteFactory = Callable[..., Awaitable[RunningSite]]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, started only if a test asks for it."""
    try:
        bin_dir = find_bin_dir()
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    server = PostgresServer(bin_dir=bin_dir)
    try:
        server.start()
    except PostgresUnavailable as error:
        pytest.fail(f"could not start PostgreSQL: {error}", pytrace=False)
    yield server
    server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def site(temporal_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[RunningSite]:
    """A standalone site in the test process, on its own task queue and ports."""
    address = temporal_env.client.service_client.config.target_host
    running = await start_running_site(temporal_env.client, site_settings(tmp_path, address))
    yield running
    await stop_running_site(running)


@pytest_asyncio.fixture(loop_scope="session")
async def make_site(temporal_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[SiteFactory]:
    """Sites with settings of the test's choosing; all are stopped at the end."""
    started: list[RunningSite] = []
    address = temporal_env.client.service_client.config.target_host

    async def make(history_limit: int = 8000, **overrides: Any) -> RunningSite:
        home = tmp_path / f"site{len(started)}"
        settings = site_settings(home, address, **overrides)
        running = await start_running_site(temporal_env.client, settings, history_limit=history_limit)
        started.append(running)
        return running

    yield make
    for running in started:
        await stop_running_site(running)
