"""A small supervisor of long-running processes that belong to one Accord home directory.

Each process is started in its own session (so a Ctrl-C in the terminal that ran ``accord up`` does
not reach it, and stopping it can signal its whole process group), logs to ``<home>/logs/<name>.log``
and is recorded in ``<home>/run``: ``<name>.pid`` holds the bare pid (for shell tools), and
``<name>.json`` what tells this process apart from a later one that got the same pid (its start time
and the boot it belongs to) plus its readiness checks, so that a later ``status`` in another
invocation of the CLI can still answer "ready?".
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.errors import OperatingError
from accord.security.private import PRIVATE_UMASK

_POLL_S = 0.05
_LOG_TAIL_LINES = 30
_PORT_FREE_WAIT_S = 3.0
_RUN_HEADER = "==== accord supervisor:"

# Children spawned by this process, kept so that they are reaped when they exit (no zombies) and so
# that a Popen is never collected while its child runs (which warns). Detached children outlive it.
_spawned: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class TcpReady:
    """Ready once ``host:port`` accepts a TCP connection."""

    host: str
    port: int

    def check(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.25):
                return True
        except OSError:
            return False

    def describe(self) -> str:
        return f"tcp {self.host}:{self.port}"

    def to_json(self) -> dict[str, Any]:
        return {"tcp": {"host": self.host, "port": self.port}}


@dataclass(frozen=True)
class FileReady:
    """Ready once the process has written ``path``; the supervisor removes it before each start."""

    path: Path

    def check(self) -> bool:
        return self.path.exists()

    def describe(self) -> str:
        return f"file {self.path}"

    def to_json(self) -> dict[str, Any]:
        return {"file": str(self.path)}


ReadyCheck = TcpReady | FileReady


def _check_from_json(raw: Mapping[str, Any]) -> ReadyCheck:
    if "tcp" in raw:
        return TcpReady(str(raw["tcp"]["host"]), int(raw["tcp"]["port"]))
    return FileReady(Path(raw["file"]))


@dataclass(frozen=True)
class ProcessSpec:
    """What to run. ``env`` is the child's whole environment; ``ready`` must all pass."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    ready: ReadyCheck | Sequence[ReadyCheck] = ()

    @property
    def ready_checks(self) -> tuple[ReadyCheck, ...]:
        if isinstance(self.ready, TcpReady | FileReady):
            return (self.ready,)
        return tuple(self.ready)


@dataclass(frozen=True)
class ProcessState:
    name: str
    pid: int | None
    alive: bool
    ready: bool
    log_file: Path
    started_at: float | None = None
    # Not alive, and not because it was stopped: it exited or was killed since it was started.
    died: bool = False
    ready_checks: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pid": self.pid,
            "alive": self.alive,
            "ready": self.ready,
            "log_file": str(self.log_file),
            "started_at": self.started_at,
            "died": self.died,
        }


@dataclass(frozen=True)
class _Record:
    pid: int
    start_ticks: int
    boot_id: str
    started_at: float
    checks: tuple[ReadyCheck, ...]


class Supervisor:
    def __init__(self, home: Path, *, port_free_wait_s: float = _PORT_FREE_WAIT_S) -> None:
        self.home = home
        # How long a start waits for a ready-check port held by another process to be released.
        self.port_free_wait_s = port_free_wait_s
        self.run_dir = home / "run"
        self.log_dir = home / "logs"
        self._lock_depth = 0

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    # ---- queries --------------------------------------------------------------------------------

    def status(self, name: str) -> ProcessState:
        """The state of ``name``; the records of a process that has died are removed on the way."""
        record = self._live_record(name)
        if record is None:
            return ProcessState(
                name, None, alive=False, ready=False, log_file=self.log_file(name), died=self.died(name)
            )
        return ProcessState(
            name,
            record.pid,
            alive=True,
            ready=all(check.check() for check in record.checks),
            log_file=self.log_file(name),
            started_at=record.started_at,
            ready_checks=tuple(check.describe() for check in record.checks),
        )

    def is_running(self, name: str) -> bool:
        return self._live_record(name) is not None

    def recorded_pid(self, name: str) -> int | None:
        """The pid on record, alive or not (nothing is checked or cleaned)."""
        try:
            return int(self.pid_file(name).read_text().strip())
        except (OSError, ValueError):
            return None

    def died(self, name: str) -> bool:
        """True once a process started here was found dead without a stop; cleared by start and stop."""
        return self._tombstone(name).exists()

    def log_tail(self, name: str, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines the latest run of ``name`` wrote."""
        path = self.log_file(name)
        try:
            with path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 64 * 1024))
                text = handle.read().decode(errors="replace")
        except OSError:
            return ""
        run = text.rsplit(_RUN_HEADER, 1)[-1].split("\n", 1)[-1] if _RUN_HEADER in text else text
        return "\n".join(run.rstrip("\n").splitlines()[-lines:])

    # ---- actions --------------------------------------------------------------------------------

    def start(self, spec: ProcessSpec, *, timeout_s: float) -> ProcessState:
        """Start ``spec`` and wait until it is ready; a process that is not ready in time is stopped."""
        with self._lock():
            if self._live_record(spec.name) is not None:
                raise OperatingError(
                    f"process {spec.name!r} is already running",
                    hint="stop it first",
                    pid=self.recorded_pid(spec.name),
                )
            for check in spec.ready_checks:
                # Otherwise a stranger holding the port would make the new process look ready. The
                # wait covers a process just killed: its sockets close only once all its threads exit.
                if isinstance(check, TcpReady) and not _wait_port_free(check, self.port_free_wait_s):
                    raise OperatingError(
                        f"cannot start process {spec.name!r}: {check.host}:{check.port} is already in use "
                        "by another process",
                        hint="stop that process or choose another port in the settings",
                    )
            self._spawn(spec)
        return self.wait_ready(spec.name, timeout_s=timeout_s)

    def wait_ready(self, name: str, *, timeout_s: float, stop_on_timeout: bool = True) -> ProcessState:
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.status(name)
            if not state.alive:
                raise OperatingError(
                    f"process {name!r} exited before it was ready",
                    hint=f"see {state.log_file}",
                    log_file=str(state.log_file),
                    log_tail=self.log_tail(name),
                )
            if state.ready:
                return state
            if time.monotonic() >= deadline:
                tail = self.log_tail(name)
                if stop_on_timeout:
                    self.stop(name, timeout_s=5)
                raise OperatingError(
                    f"process {name!r} was not ready after {timeout_s:g} s "
                    f"(waiting for {', '.join(state.ready_checks)})"
                    + ("; it was stopped" if stop_on_timeout else ""),
                    hint=f"see {state.log_file}",
                    log_file=str(state.log_file),
                    log_tail=tail,
                )
            time.sleep(_POLL_S)

    def stop(self, name: str, *, timeout_s: float) -> bool:
        """SIGTERM ``name`` (its whole process group), SIGKILL after ``timeout_s``; True if it ran."""
        with self._lock():
            record = self._live_record(name)
            if record is None:
                return False
            own_group = _leads_group(record.pid)
            self._signal(record.pid, signal.SIGTERM, own_group)
            if not self._wait_exit(record, timeout_s):
                self._signal(record.pid, signal.SIGKILL, own_group)
                if not self._wait_exit(record, 10):
                    raise OperatingError(
                        f"process {name!r} (pid {record.pid}) survived SIGKILL", pid=record.pid
                    )
            if own_group:
                # Its children that outlive it. The group id cannot have been reused yet: the kernel
                # does not hand out a pid that is still the id of a process group with members.
                self._signal(record.pid, signal.SIGKILL, own_group)
            self._forget(name, record.checks)
            self._tombstone(name).unlink(missing_ok=True)
            return True

    # ---- internals ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        # Two `accord up` at once must not both start the same process. Re-entrant, because flock
        # would block on a second open of the lock file even within this process.
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with (self.run_dir / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _spawn(self, spec: ProcessSpec) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        checks = spec.ready_checks
        self._forget(spec.name, checks)
        self._tombstone(spec.name).unlink(missing_ok=True)
        log_path = self.log_file(spec.name)
        with log_path.open("ab") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"{_RUN_HEADER} start {spec.name} at {stamp}: {' '.join(spec.argv)}\n".encode())
            log.flush()
            try:
                child = subprocess.Popen(
                    list(spec.argv),
                    env=dict(spec.env) if spec.env is not None else None,
                    cwd=self.home,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    # Whoever starts it: what the site writes (keys, tables, models) is its user's alone.
                    umask=PRIVATE_UMASK,
                )
            except OSError as error:
                raise OperatingError(
                    f"cannot start process {spec.name!r}: {error}", argv=list(spec.argv)
                ) from error
        _spawned[child.pid] = child
        ticks = _start_ticks(child.pid)
        if ticks is None:
            # Gone already (a program that failed at once); wait_ready reports it with the log.
            _reap(child.pid)
            return
        record = {
            "pid": child.pid,
            "start_ticks": ticks,
            "boot_id": _boot_id(),
            "started_at": time.time(),
            "argv": list(spec.argv),
            "ready": [check.to_json() for check in checks],
        }
        # The JSON first: a pid file never exists without what identifies its process.
        _write_atomic(self.run_dir / f"{spec.name}.json", json.dumps(record, indent=2))
        _write_atomic(self.pid_file(spec.name), f"{child.pid}\n")

    def _live_record(self, name: str) -> _Record | None:
        record = self._read_record(name)
        if record is not None and _is_alive(record):
            return record
        if record is None and not self.pid_file(name).exists():
            return None
        with self._lock():
            # Read again under the lock: a concurrent start may have replaced the records meanwhile.
            record = self._read_record(name)
            if record is not None and _is_alive(record):
                return record
            if record is not None or self.pid_file(name).exists():
                self._forget(name, record.checks if record else ())
                # Remembered so that the next start can say "restarted" and status can say "died".
                _write_atomic(self._tombstone(name), f"{record.pid if record else ''}\n")
        return None

    def _read_record(self, name: str) -> _Record | None:
        pid = self.recorded_pid(name)
        try:
            raw = json.loads((self.run_dir / f"{name}.json").read_text())
            record = _Record(
                pid=int(raw["pid"]),
                start_ticks=int(raw["start_ticks"]),
                boot_id=str(raw["boot_id"]),
                started_at=float(raw["started_at"]),
                checks=tuple(_check_from_json(item) for item in raw["ready"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return record if record.pid == pid else None

    def _tombstone(self, name: str) -> Path:
        return self.run_dir / f"{name}.died"

    def _forget(self, name: str, checks: Sequence[ReadyCheck]) -> None:
        for path in (self.pid_file(name), self.run_dir / f"{name}.json"):
            path.unlink(missing_ok=True)
        # A ready file left by a dead run would make the next run look ready at once.
        for check in checks:
            if isinstance(check, FileReady):
                check.path.unlink(missing_ok=True)

    def _signal(self, pid: int, signum: signal.Signals, group: bool) -> None:
        # Our children lead their own process group; signal it so that their own children stop too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(pid, signum)
            else:
                os.kill(pid, signum)

    def _wait_exit(self, record: _Record, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while _is_alive(record):
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)
        return True


def _leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def _wait_port_free(check: TcpReady, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while check.check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True


def _is_alive(record: _Record) -> bool:
    _reap(record.pid)
    if record.boot_id != _boot_id():
        return False
    # A pid the kernel has given to a newer process has a different start time.
    return _start_ticks(record.pid) == record.start_ticks


def _reap(pid: int) -> None:
    # Only our own Popen: a bare waitpid could steal the exit status of another child of this process
    # that happens to have a recycled pid.
    child = _spawned.get(pid)
    if child is not None and child.poll() is not None:
        del _spawned[pid]


def _start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot; None if it does not exist or is a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; the fields after it do not.
    fields = stat[stat.rindex(")") + 2 :].split()
    state, start_ticks = fields[0], fields[19]
    if state in ("Z", "X"):
        return None
    return int(start_ticks)


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
