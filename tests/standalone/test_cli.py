"""``accord up | down | status`` through click, with the real dev server and stand-in services."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import accord.cli.standalone as standalone_cli
from accord.cli.standalone import down, status, up
from accord.settings import Settings
from accord.standalone.stack import PROCESS_ORDER, Stack
from tests.support import wait_until

from .conftest import SERVER_ARGV, WORKER_ARGV, site_settings
from .test_supervisor import wait_gone

ROOT = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings) -> dict[str, str]:
    return {key: value for key, value in settings.to_env().items() if key != "ACCORD_HOME"}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings on free ports, given to the commands as ACCORD_* variables, plus --home."""
    settings = site_settings(tmp_path / "home")
    for key, value in settings_env(settings).items():
        monkeypatch.setenv(key, value)
    # Stand-ins for `accord server` / `accord worker`: only their command lines change.
    monkeypatch.setattr(
        standalone_cli, "Stack", functools.partial(Stack, server_argv=SERVER_ARGV, worker_argv=WORKER_ARGV)
    )
    yield settings
    Stack(settings).down()


def invoke(command: click.Command, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(command, list(args))
    return result.exit_code, result.output


def test_status_json_shape(site: Settings) -> None:
    code, output = invoke(status, "--home", str(site.home), "--json")

    assert code == 0, output
    body = json.loads(output)
    assert body["retcode"] == 0 and body["retmsg"] == "success"
    data = body["data"]
    assert set(data) == {
        "home",
        "processes",
        "temporal_address",
        "temporal_ui_address",
        "http_address",
        "federation_address",
    }
    assert list(data["processes"]) == list(PROCESS_ORDER)
    for name, process in data["processes"].items():
        assert process == {
            "name": name,
            "pid": None,
            "alive": False,
            "ready": False,
            "log_file": str(site.home / "logs" / f"{name}.log"),
            "started_at": None,
            "died": False,
        }
    assert data["temporal_ui_address"] == f"http://127.0.0.1:{site.temporal_ui_port}"
    assert data["http_address"] == site.http_address and data["federation_address"] == site.federation_address


def test_up_detach_status_down(site: Settings) -> None:
    code, output = invoke(up, "--home", str(site.home), "--detach", "--json")
    assert code == 0, output
    started = json.loads(output)["data"]["processes"]
    assert {name: p["action"] for name, p in started.items()} == dict.fromkeys(PROCESS_ORDER, "started")

    code, output = invoke(status, "--home", str(site.home))
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].split() == ["PROCESS", "PID", "ALIVE", "READY", "LOG"]
    for name, line in zip(PROCESS_ORDER, lines[1:4], strict=True):
        assert line.split() == [name, str(started[name]["pid"]), "yes", "yes", started[name]["log_file"]]
    assert f"Temporal web UI:  http://127.0.0.1:{site.temporal_ui_port}" in output

    code, output = invoke(down, "--home", str(site.home), "--json")
    assert code == 0, output
    stopped = json.loads(output)["data"]["processes"]
    assert {name: (p["action"], p["alive"]) for name, p in stopped.items()} == dict.fromkeys(
        PROCESS_ORDER, ("stopped", False)
    )


def test_up_reports_a_coded_error_with_the_log(site: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    crashing = [
        sys.executable,
        "-c",
        "print('cannot open the site database', flush=True); raise SystemExit(3)",
    ]
    monkeypatch.setattr(
        standalone_cli, "Stack", functools.partial(Stack, server_argv=crashing, worker_argv=WORKER_ARGV)
    )

    result = CliRunner().invoke(up, ["--home", str(site.home), "--detach"])

    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["retcode"] == 103
    assert body["retmsg"].startswith("process 'server' exited before it was ready")
    assert body["data"]["log_tail"] == "cannot open the site database"
    assert "cannot open the site database" in result.stderr, "the tail is also shown as plain lines"
    # The stack is left as far as it got: Temporal runs, the server is recorded as died.
    temporal, server, worker = Stack(site).status().processes
    assert temporal.state.ready and server.state.died and not worker.state.alive


FOREGROUND = """
import functools, sys
import accord.cli.standalone as cli
from accord.standalone.stack import Stack
from tests.standalone.conftest import SERVER_ARGV, WORKER_ARGV
cli.Stack = functools.partial(Stack, server_argv=SERVER_ARGV, worker_argv=WORKER_ARGV)
cli.up(["--home", sys.argv[1]])
"""


def _restarted(stack: Stack, name: str, old_pid: int | None) -> bool:
    state = stack.supervisor.status(name)
    return state.ready and state.pid not in (None, old_pid)


def test_foreground_up_restarts_what_dies_and_stops_the_stack_on_sigterm(site: Settings) -> None:
    env = {**os.environ, **settings_env(site)}
    # Files, not pipes: a failure can then show what the foreground loop said while it waited.
    out_path, err_path = site.home.parent / "up.out", site.home.parent / "up.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", FOREGROUND, str(site.home)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            text=True,
        )

    def said() -> str:
        return f"stdout:\n{out_path.read_text()}\nstderr:\n{err_path.read_text()}"

    try:
        stack = Stack(site)
        # Not just the processes' readiness: `up` itself must have seen them ready and begun watching,
        # or the kill below lands while it still waits and fails its start instead of its watch.
        wait_until(lambda: "Ctrl-C stops the stack" in out_path.read_text(), 60, "foreground watching", said)
        assert stack.status().all_ready
        first = {p.state.name: p.state.pid for p in stack.status().processes}

        os.kill(first["worker"] or 0, signal.SIGKILL)
        assert wait_gone(first["worker"] or 0)
        # The old record may still read "ready" until the foreground loop notices the death.
        wait_until(lambda: _restarted(stack, "worker", first["worker"]), 60, "worker restarted", said)

        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stdout, stderr = out_path.read_text(), err_path.read_text()
    assert process.returncode == 0, stderr
    assert "worker died; restarting" in stderr and "stopping the stack" in stderr
    assert "Ctrl-C stops the stack" in stdout
    assert not any(p.state.alive for p in Stack(site).status().processes)
