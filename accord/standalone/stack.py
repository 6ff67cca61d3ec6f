"""The standalone stack of one site: the Temporal dev server, the Accord server and the worker.

They start in that order, each once the one before is ready, and stop in the reverse order. The
settings reach the children as ``ACCORD_*`` variables, so ``Settings.from_env()`` in the child
rebuilds exactly the settings of the parent.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from accord.security.local_token import ensure_local_token
from accord.settings import Settings
from accord.standalone.supervisor import FileReady, ProcessSpec, ProcessState, Supervisor, TcpReady
from accord.standalone.temporal_server import default_db_file, dev_server_args, temporal_port

Action = Literal["started", "restarted", "running", "stopped", "not running"]

TEMPORAL, SERVER, WORKER = "temporal", "server", "worker"
PROCESS_ORDER = (TEMPORAL, SERVER, WORKER)

DEFAULT_START_TIMEOUT_S = 60.0
DEFAULT_STOP_TIMEOUT_S = 15.0


def worker_ready_file(settings: Settings) -> Path:
    """The file ``accord worker`` writes once it polls its task queue; the stack waits for it."""
    return settings.home / "run" / "worker.ready"


@dataclass(frozen=True)
class ProcessStatus:
    state: ProcessState
    # What the last up/down did to it; None for a plain status.
    action: Action | None = None

    def to_dict(self) -> dict[str, Any]:
        body = self.state.to_dict()
        if self.action is not None:
            body["action"] = self.action
        return body


@dataclass(frozen=True)
class StackStatus:
    home: Path
    processes: tuple[ProcessStatus, ...]
    temporal_address: str
    temporal_ui_address: str
    http_address: str
    federation_address: str

    @property
    def all_ready(self) -> bool:
        return all(process.state.ready for process in self.processes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "processes": {process.state.name: process.to_dict() for process in self.processes},
            "temporal_address": self.temporal_address,
            "temporal_ui_address": self.temporal_ui_address,
            "http_address": self.http_address,
            "federation_address": self.federation_address,
        }


class Stack:
    """The three processes of a standalone site.

    ``server_argv`` and ``worker_argv`` replace the ``accord server`` / ``accord worker`` commands
    (the tests run stand-ins that open the same ports and write the same ready file).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        temporal_argv: Sequence[str] | None = None,
        server_argv: Sequence[str] | None = None,
        worker_argv: Sequence[str] | None = None,
    ) -> None:
        # Children run with the home as working directory, so a relative home would move under them.
        home = settings.home.expanduser().resolve()
        if home != settings.home:
            settings = settings.model_copy(update={"home": home})
        self.settings = settings
        self.supervisor = Supervisor(settings.home)
        self._temporal_argv = list(temporal_argv) if temporal_argv is not None else None
        self._server_argv = list(server_argv or [sys.executable, "-m", "accord", "server"])
        self._worker_argv = list(worker_argv or [sys.executable, "-m", "accord", "worker"])

    def specs(self) -> list[ProcessSpec]:
        settings = self.settings
        env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}
        temporal_argv = self._temporal_argv or dev_server_args(settings, db_file=default_db_file(settings))
        return [
            ProcessSpec(TEMPORAL, temporal_argv, env, TcpReady("127.0.0.1", temporal_port(settings))),
            ProcessSpec(
                SERVER,
                self._server_argv,
                env,
                (
                    TcpReady(settings.http_host, settings.http_port),
                    TcpReady(settings.federation_host, settings.federation_port),
                ),
            ),
            ProcessSpec(WORKER, self._worker_argv, env, FileReady(worker_ready_file(settings))),
        ]

    def up(self, *, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> StackStatus:
        """Start what is not running, restart what died; what runs is left alone (but waited for)."""
        from accord.security.private import private_files

        # The home, the supervisor's logs and pid files, and (by the umask they inherit) everything the
        # processes started here write, the Temporal state included, are the user's alone.
        with private_files(self.settings.home):
            return self._up(timeout_s)

    def _up(self, timeout_s: float) -> StackStatus:
        default_db_file(self.settings).parent.mkdir(parents=True, exist_ok=True)
        if not self.settings.insecure_open and not self.settings.http_auth:
            # Made before the server starts, so the CLI can use it the moment the API answers.
            ensure_local_token(self.settings.home)
        results: list[ProcessStatus] = []
        for spec in self.specs():
            if self.supervisor.is_running(spec.name):
                # Still starting (a concurrent up) or running: the next process may need it ready.
                state = self.supervisor.wait_ready(spec.name, timeout_s=timeout_s, stop_on_timeout=False)
                results.append(ProcessStatus(state, "running"))
                continue
            died = self.supervisor.died(spec.name)
            state = self.supervisor.start(spec, timeout_s=timeout_s)
            results.append(ProcessStatus(state, "restarted" if died else "started"))
        return self._status(results)

    def down(self, *, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> StackStatus:
        results: list[ProcessStatus] = []
        for name in reversed(PROCESS_ORDER):
            stopped = self.supervisor.stop(name, timeout_s=timeout_s)
            results.append(
                ProcessStatus(self.supervisor.status(name), "stopped" if stopped else "not running")
            )
        results.reverse()
        return self._status(results)

    def status(self) -> StackStatus:
        return self._status([ProcessStatus(self.supervisor.status(name)) for name in PROCESS_ORDER])

    def _status(self, processes: list[ProcessStatus]) -> StackStatus:
        settings = self.settings
        return StackStatus(
            home=settings.home,
            processes=tuple(processes),
            temporal_address=settings.temporal_address,
            temporal_ui_address=settings.temporal_ui_address,
            http_address=settings.http_address,
            federation_address=settings.federation_address,
        )


def up(settings: Settings, *, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> StackStatus:
    return Stack(settings).up(timeout_s=timeout_s)


def down(settings: Settings, *, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> StackStatus:
    return Stack(settings).down(timeout_s=timeout_s)


def status(settings: Settings) -> StackStatus:
    return Stack(settings).status()
