"""``accord server``, ``accord worker``, ``accord site up|check``: a site's processes, in any mode."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import click

from accord.cli.root import coded_errors, emit
from accord.errors import AccordError, RetCode
from accord.settings import Settings

home_option = click.option(
    "--home", type=click.Path(path_type=Path), help="site home (default ACCORD_HOME or ~/.accord)"
)
config_option = click.option(
    "-c",
    "--config",
    "config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="the site's config file (YAML or TOML); without it, ACCORD_* variables",
)


def site_settings(config: Path | None, home: Path | None = None) -> Settings:
    if config is None:
        return Settings.from_env(home=home)
    from accord.site.config import load_site_config

    return load_site_config(config, home=home)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group("server", invoke_without_command=True)
@home_option
@config_option
@click.pass_context
@coded_errors
def server(ctx: click.Context, home: Path | None, config: Path | None) -> None:
    """Run the site's HTTP API and federation endpoint; `accord server versions` asks a running one."""
    if ctx.invoked_subcommand is not None:
        return
    from accord.server import run_server

    settings = site_settings(config, home)
    _logging()
    asyncio.run(run_server(settings))


@click.command("worker")
@home_option
@config_option
@coded_errors
def worker(home: Path | None, config: Path | None) -> None:
    """Run a worker for the site's task queue (several may share it)."""
    from accord.worker import run_worker

    settings = site_settings(config, home)
    _logging()
    asyncio.run(run_worker(settings))


@click.group("site")
def site() -> None:
    """A cluster-mode site: one organisation's server and workers on its own Temporal and database."""


@site.command("up")
@click.option(
    "-c", "--config", "config", required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True)
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="worker processes")
@coded_errors
def site_up(config: Path, workers: int) -> None:
    """Run the site's server and workers in the foreground, against its existing Temporal.

    Stops them all on SIGTERM or Ctrl-C, or when one of them exits.
    """
    settings = site_settings(config)  # a bad config fails here, before anything starts
    command = [sys.executable, "-m", "accord"]
    children = [subprocess.Popen([*command, "server", "-c", str(config)])]
    children += [subprocess.Popen([*command, "worker", "-c", str(config)]) for _ in range(workers)]
    click.echo(
        f"site of parties {', '.join(map(str, settings.local_party_ids)) or 'all'}: server pid "
        f"{children[0].pid}, workers {', '.join(str(child.pid) for child in children[1:])}",
        err=True,
    )
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    ended = [child for child in children if child.poll() is not None]
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    if not stopping and ended:
        raise AccordError(
            f"a process of the site exited (pid {ended[0].pid}, status {ended[0].returncode}); "
            "the others were stopped",
            hint="see its output above",
        )


@site.command("check")
@click.option(
    "-c", "--config", "config", required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True)
)
@click.option("--timeout", "timeout_s", default=5.0, show_default=True, help="seconds per check")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@coded_errors
def site_check(config: Path, timeout_s: float, as_json: bool) -> None:
    """Test the config, the database, Temporal, the TLS material and every peer route."""
    from accord.site.check import check_site

    results = asyncio.run(check_site(site_settings(config), timeout_s=timeout_s))
    failed = [result for result in results if not result.ok]
    if as_json:
        emit(
            {
                "retcode": int(RetCode.CONNECTION) if failed else 0,
                "retmsg": f"{len(failed)} check(s) failed" if failed else "success",
                "data": [result.model_dump() for result in results],
            }
        )
    else:
        width = max(len(result.name) for result in results)
        for result in results:
            mark = "ok  " if result.ok else "FAIL"
            click.echo(f"{mark}  {result.name.ljust(width)}  {result.detail}  ({result.elapsed_ms} ms)")
    if failed:
        sys.exit(1)


SERVICE_COMMANDS = [server, worker, site]
