"""On a fresh machine, ``accord up`` and a multi-stage job run to success from the CLI alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accord.settings import ENV_PREFIX, Settings
from accord.standalone.stack import PROCESS_ORDER, Stack
from tests.chaos.site import COMPONENTS, REPO_ROOT, START_TIMEOUT_S, log_tails, process_gone, wait_until
from tests.scheduling.jobs import chain_dsl, conf
from tests.support import free_port

ACCORD = [sys.executable, "-m", "accord"]
JOB_TIMEOUT_S = 120.0


def cli_environment(tmp_path: Path) -> dict[str, str]:
    """What a user would export: free ports, a task queue, the test components (comma separated)."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
    return {
        **base,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), base.get("PYTHONPATH")])),
        "ACCORD_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "ACCORD_TEMPORAL_UI_PORT": str(free_port()),
        "ACCORD_HTTP_PORT": str(free_port()),
        "ACCORD_FEDERATION_PORT": str(free_port()),
        "ACCORD_TASK_QUEUE": f"cli-{tmp_path.name}",
        "ACCORD_COMPONENT_MODULES": COMPONENTS,
        # The CLI's saved server address lives here; never touch the user's ~/.accord.
        "ACCORD_CLI_CONF": str(tmp_path / "cli.json"),
        "ACCORD_TEST_CALLS": str(tmp_path / "calls"),
    }


def accord(env: dict[str, str], *args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ACCORD, *args], env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )


def explain(done: subprocess.CompletedProcess[str], home: Path) -> str:
    return f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}\n{log_tails(home)}"


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A home that does not exist yet; whatever `accord up` starts there is stopped at the end."""
    home = tmp_path / "fresh" / "accord"
    yield home
    # `accord down` is what the test checks; this is the safety net when the test fails before it.
    Stack(Settings(home=home)).down()


def test_up_job_status_down_from_the_cli(tmp_path: Path, home: Path) -> None:
    env = cli_environment(tmp_path)
    server = f"http://127.0.0.1:{env['ACCORD_HTTP_PORT']}"

    up = accord(env, "up", "--home", str(home), "--detach", "--json", timeout_s=4 * START_TIMEOUT_S)
    assert up.returncode == 0, explain(up, home)
    started = json.loads(up.stdout)["data"]["processes"]
    assert {name: started[name]["action"] for name in PROCESS_ORDER} == dict.fromkeys(
        PROCESS_ORDER, "started"
    )

    dsl, job_conf = tmp_path / "dsl.json", tmp_path / "conf.json"
    dsl.write_text(json.dumps(chain_dsl(["TestSleep"] * 3)))
    job_conf.write_text(json.dumps(conf(common={name: {"seconds": 0.5} for name in ("c0", "c1", "c2")})))
    submit = accord(
        env,
        *("job", "submit", "-d", str(dsl), "-c", str(job_conf), "--wait"),
        *("--timeout", str(JOB_TIMEOUT_S), "--server", server),
        timeout_s=JOB_TIMEOUT_S + 30,
    )
    assert submit.returncode == 0, explain(submit, home)
    assert json.loads(submit.stdout)["data"]["status"] == "success", explain(submit, home)

    status = accord(env, "status", "--home", str(home), "--json", timeout_s=60)
    assert status.returncode == 0, explain(status, home)
    processes: dict[str, dict[str, Any]] = json.loads(status.stdout)["data"]["processes"]
    assert set(processes) == set(PROCESS_ORDER)
    assert all(p["alive"] and p["ready"] for p in processes.values()), processes
    pids = [int(p["pid"]) for p in processes.values()]

    down = accord(env, "down", "--home", str(home), "--json", timeout_s=120)
    assert down.returncode == 0, explain(down, home)
    stopped = json.loads(down.stdout)["data"]["processes"]
    assert {name: stopped[name]["action"] for name in PROCESS_ORDER} == dict.fromkeys(
        PROCESS_ORDER, "stopped"
    )
    # The processes were children of `accord up`, long gone; they are reaped by whoever adopted them.
    wait_until(lambda: all(process_gone(pid) for pid in pids), 15, f"processes {pids} to exit")
