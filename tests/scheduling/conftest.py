"""Fixtures: one real Temporal dev server for the session, a fresh site per test."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.scheduling.harness import RunningSite, site_settings, start_running_site, stop_running_site

TEMPORAL = Path(sys.executable).with_name("temporal")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL),
        data_converter=pydantic_data_converter,
        ui=False,
    )
    async with env:
        yield env


@pytest_asyncio.fixture(loop_scope="session")
async def site(temporal_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[RunningSite]:
    address = temporal_env.client.service_client.config.target_host
    running = await start_running_site(temporal_env.client, site_settings(tmp_path, address))
    yield running
    await stop_running_site(running)
