"""The supervisor with real short-lived processes: start, readiness, stop, stale and recycled pids."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.errors import OperatingError
from accord.standalone.supervisor import FileReady, ProcessSpec, Supervisor, TcpReady
from tests.support import free_port


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def writes_ready(path: Path) -> list[str]:
    return python(
        "import pathlib, time\n"
        "print('hello from the child', flush=True)\n"
        f"pathlib.Path({str(path)!r}).write_text('ok')\n"
        "time.sleep(600)\n"
    )


def pid_exists(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def wait_gone(pid: int, timeout_s: float = 5) -> bool:
    deadline = time.monotonic() + timeout_s
    while pid_exists(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    supervisor = Supervisor(tmp_path)
    yield supervisor
    # Whatever a failed test left running.
    for pid_file in supervisor.run_dir.glob("*.pid"):
        supervisor.stop(pid_file.stem, timeout_s=1)


def test_start_status_stop(supervisor: Supervisor, tmp_path: Path) -> None:
    ready = tmp_path / "run" / "child.ready"
    spec = ProcessSpec("child", writes_ready(ready), dict(os.environ), FileReady(ready))

    state = supervisor.start(spec, timeout_s=10)

    assert state.alive and state.ready and state.pid is not None
    assert supervisor.is_running("child")
    assert supervisor.pid_file("child").read_text().strip() == str(state.pid)
    assert supervisor.status("child") == state
    assert "hello from the child" in supervisor.log_tail("child")
    assert os.getpgid(state.pid) == state.pid, "the child leads its own session"

    assert supervisor.stop("child", timeout_s=5) is True
    assert wait_gone(state.pid)
    after = supervisor.status("child")
    assert (after.pid, after.alive, after.ready, after.died) == (None, False, False, False)
    assert not supervisor.pid_file("child").exists() and not ready.exists()
    assert supervisor.stop("child", timeout_s=5) is False


def test_tcp_ready_and_port_taken(supervisor: Supervisor) -> None:
    supervisor.port_free_wait_s = 0.2
    port = free_port()
    code = (
        "import socket, time\n"
        f"s = socket.socket(); s.bind(('127.0.0.1', {port})); time.sleep(0.3); s.listen()\n"
        "time.sleep(600)\n"
    )
    spec = ProcessSpec("listener", python(code), None, TcpReady("127.0.0.1", port))
    state = supervisor.start(spec, timeout_s=10)
    assert state.ready

    # A second process whose port is held by a stranger must not look ready.
    with pytest.raises(OperatingError, match="already in use"):
        supervisor.start(
            ProcessSpec("other", python("import time; time.sleep(600)"), None, spec.ready), timeout_s=5
        )
    assert not supervisor.is_running("other")
    supervisor.stop("listener", timeout_s=5)


def test_stale_pid_file_of_dead_process_is_cleaned(supervisor: Supervisor, tmp_path: Path) -> None:
    ready = tmp_path / "run" / "child.ready"
    state = supervisor.start(ProcessSpec("child", writes_ready(ready), None, FileReady(ready)), timeout_s=10)
    assert state.pid is not None
    os.kill(state.pid, signal.SIGKILL)
    assert wait_gone(state.pid)

    assert supervisor.recorded_pid("child") == state.pid
    after = supervisor.status("child")
    assert (after.pid, after.alive, after.ready) == (None, False, False)
    assert supervisor.recorded_pid("child") is None
    assert after.died and supervisor.died("child")
    assert not ready.exists(), "a stale ready file would make the next start look ready at once"

    again = supervisor.start(ProcessSpec("child", writes_ready(ready), None, FileReady(ready)), timeout_s=10)
    assert again.alive and again.pid != state.pid and not again.died
    supervisor.stop("child", timeout_s=5)


def test_recycled_pid_is_not_mistaken_for_the_process(supervisor: Supervisor) -> None:
    # A record whose pid now belongs to another process (here: this test) with another start time.
    supervisor.run_dir.mkdir(parents=True)
    ticks = int(Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19])
    record = {
        "pid": os.getpid(),
        "start_ticks": ticks - 1,
        "boot_id": Path("/proc/sys/kernel/random/boot_id").read_text().strip(),
        "started_at": time.time(),
        "argv": ["gone"],
        "ready": [],
    }
    (supervisor.run_dir / "ghost.json").write_text(json.dumps(record))
    supervisor.pid_file("ghost").write_text(f"{os.getpid()}\n")

    assert not supervisor.is_running("ghost")
    assert supervisor.stop("ghost", timeout_s=1) is False  # and this test is still alive to assert it
    assert not supervisor.pid_file("ghost").exists()


def test_ready_timeout_reports_log_tail_and_stops_the_process(supervisor: Supervisor, tmp_path: Path) -> None:
    code = "import time\nprint('booting, stuck on something', flush=True)\ntime.sleep(600)\n"
    spec = ProcessSpec("slow", python(code), None, FileReady(tmp_path / "never"))

    with pytest.raises(OperatingError) as caught:
        supervisor.start(spec, timeout_s=1)

    error = caught.value
    assert error.code == 103
    assert "not ready after 1 s" in error.message and "file " in error.message
    assert "booting, stuck on something" in error.details["log_tail"]
    assert error.details["log_file"] == str(supervisor.log_file("slow"))
    assert not supervisor.is_running("slow")


def test_exit_before_ready_reports_only_the_latest_run(supervisor: Supervisor, tmp_path: Path) -> None:
    supervisor.log_dir.mkdir(parents=True)
    supervisor.log_file("crash").write_text("output of an older run\n")
    code = "import sys\nprint('boom: cannot open the database', flush=True)\nsys.exit(3)\n"

    with pytest.raises(OperatingError, match="exited before it was ready") as caught:
        supervisor.start(ProcessSpec("crash", python(code), None, FileReady(tmp_path / "x")), timeout_s=10)

    tail = caught.value.details["log_tail"]
    assert "boom: cannot open the database" in tail and "older run" not in tail
    assert "older run" in supervisor.log_file("crash").read_text(), "logs are appended, not truncated"


def test_stop_escalates_to_sigkill_and_reaches_the_process_group(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    ready, grandchild_file = tmp_path / "ready", tmp_path / "grandchild.pid"
    # The grandchild inherits the ignored SIGTERM.
    code = (
        "import pathlib, signal, subprocess, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen(['sleep', '600'])\n"
        f"pathlib.Path({str(grandchild_file)!r}).write_text(str(child.pid))\n"
        f"pathlib.Path({str(ready)!r}).write_text('ok')\n"
        "time.sleep(600)\n"
    )
    state = supervisor.start(ProcessSpec("stubborn", python(code), None, FileReady(ready)), timeout_s=10)
    assert state.pid is not None
    grandchild = int(grandchild_file.read_text())

    began = time.monotonic()
    assert supervisor.stop("stubborn", timeout_s=0.5) is True
    assert 0.5 <= time.monotonic() - began < 5
    assert wait_gone(state.pid) and wait_gone(grandchild)


def test_stop_sweeps_children_left_behind_by_the_process(supervisor: Supervisor, tmp_path: Path) -> None:
    ready, grandchild_file = tmp_path / "ready", tmp_path / "grandchild.pid"
    # The process exits on SIGTERM at once; its child ignores SIGTERM and would be orphaned.
    code = (
        "import pathlib, subprocess, time\n"
        "child = subprocess.Popen(['sh', '-c', 'trap \"\" TERM; sleep 600 & wait'])\n"
        f"pathlib.Path({str(grandchild_file)!r}).write_text(str(child.pid))\n"
        f"pathlib.Path({str(ready)!r}).write_text('ok')\n"
        "time.sleep(600)\n"
    )
    state = supervisor.start(ProcessSpec("leaky", python(code), None, FileReady(ready)), timeout_s=10)
    grandchild = int(grandchild_file.read_text())

    began = time.monotonic()
    assert supervisor.stop("leaky", timeout_s=5) is True
    assert time.monotonic() - began < 2, "no SIGKILL escalation was needed"
    assert state.pid is not None and wait_gone(state.pid) and wait_gone(grandchild)
