"""``accord server`` and ``accord worker``: a site's processes, run on their own (cluster mode too)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from accord.cli.root import coded_errors
from accord.settings import Settings


def _settings(home: Path | None) -> Settings:
    return Settings.from_env(home=home)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.command("server")
@click.option("--home", type=click.Path(path_type=Path), help="site home (default ACCORD_HOME or ~/.accord)")
@coded_errors
def server(home: Path | None) -> None:
    """Run the site's HTTP API and federation endpoint."""
    from accord.server import run_server

    _logging()
    asyncio.run(run_server(_settings(home)))


@click.command("worker")
@click.option("--home", type=click.Path(path_type=Path), help="site home (default ACCORD_HOME or ~/.accord)")
@coded_errors
def worker(home: Path | None) -> None:
    """Run a worker for the site's task queue (several may share it)."""
    from accord.worker import run_worker

    _logging()
    asyncio.run(run_worker(_settings(home)))


SERVICE_COMMANDS = [server, worker]
