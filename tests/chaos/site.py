"""A standalone site as real OS processes for chaos tests, and what the tests ask of it.

Everything is real: the Temporal dev server binary, ``python -m accord server`` and
``python -m accord worker`` started by the standalone stack, gRPC between them, SQLite on disk.
The tests only submit over HTTP, kill processes and read the site's database afterwards.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.persistence import Database, ResourceRepository
from accord.settings import ENV_PREFIX, Settings
from accord.standalone.stack import Stack, StackStatus
from tests.support import local_credential, loopback_settings, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = "tests.scheduling.components"
# The parties of tests.scheduling.jobs.conf() without an arbiter.
PARTIES = frozenset({("guest", 9999), ("host", 10000)})
ENGINE = "STANDALONE"

# Generous: on a loaded 2-core machine the dev server alone may take several seconds to start.
START_TIMEOUT_S = 90.0
JOB_TIMEOUT_S = 90.0
_LOG_TAIL_LINES = 40


def chaos_settings(home: Path) -> Settings:
    """A site on free ports and its own task queue, running the test components."""
    return loopback_settings(
        home,
        task_queue=f"chaos-{uuid.uuid4().hex[:10]}",
        component_modules=(COMPONENTS,),
    )


def child_environment(monkeypatch: pytest.MonkeyPatch, calls_dir: Path) -> None:
    """Make the environment the stack hands its children (it copies os.environ) fit for the tests.

    ACCORD_* variables of whoever runs pytest must not leak into the site (e.g. a database URL that
    ``to_env`` leaves unset); the children need the repo root to import the test components; and the
    components count their runs in ``calls_dir``.
    """
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX):
            monkeypatch.delenv(key)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("ACCORD_TEST_CALLS", str(calls_dir))


def process_gone(pid: int) -> bool:
    """True once ``pid`` has exited; a zombie (nobody reaped it yet) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2 :].split()[0] in ("Z", "X")


def log_tails(home: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """The end of every log of the site, for failure messages."""
    parts = []
    for path in sorted((home / "logs").glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"---- {path.name} (last {len(tail)} lines) ----\n" + "\n".join(tail))
    return "\n".join(parts) or f"(no logs under {home / 'logs'})"


@dataclass
class ChaosSite:
    stack: Stack
    calls_dir: Path
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10.0))

    def __post_init__(self) -> None:
        self.http.headers.update(local_credential(self.stack.settings))

    @property
    def settings(self) -> Settings:
        return self.stack.settings

    def logs(self) -> str:
        return log_tails(self.settings.home)

    # ---- processes ------------------------------------------------------------------------------

    def up(self) -> StackStatus:
        return self.stack.up(timeout_s=START_TIMEOUT_S)

    def pid(self, name: str) -> int:
        state = self.stack.supervisor.status(name)
        assert state.alive and state.pid is not None, f"{name} is not running\n{self.logs()}"
        return state.pid

    def kill(self, name: str) -> int:
        """SIGKILL one process of the stack (no chance to clean up) and wait until it is gone."""
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        # is_running also reaps the child, so the supervisor sees it dead rather than as a zombie.
        wait_until(lambda: not self.stack.supervisor.is_running(name), 15, f"{name} (pid {pid}) to die")
        return pid

    # ---- the HTTP API ---------------------------------------------------------------------------

    def call(self, endpoint: str, body: dict[str, Any]) -> Any:
        reply = self.http.post(f"{self.settings.http_address}{endpoint}", json=body)
        envelope = reply.json()
        assert envelope["retcode"] == 0, f"{endpoint} answered {reply.status_code}: {envelope}"
        return envelope

    def submit(self, dsl: dict[str, Any], conf: dict[str, Any]) -> str:
        envelope = self.call("/v1/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})
        return str(envelope["jobId"])

    def job_rows(self, job_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.call("/v1/job/query", {"job_id": job_id})["data"]
        return rows

    def task_rows(self, job_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.call("/v1/job/task/query", {"job_id": job_id})["data"]
        return rows

    def party_statuses(self, job_id: str) -> dict[tuple[str, int], str]:
        return {(row["f_role"], row["f_party_id"]): row["f_status"] for row in self.job_rows(job_id)}

    def wait_job_end(self, job_id: str, timeout_s: float = JOB_TIMEOUT_S) -> dict[tuple[str, int], str]:
        """Every party's status once all have ended. Failed polls (a restarting site) are retried."""
        ended = {"success", "failed", "canceled", "timeout"}
        last: dict[str, Any] = {}

        def all_ended() -> dict[tuple[str, int], str] | None:
            try:
                statuses = self.party_statuses(job_id)
            except (httpx.HTTPError, AssertionError, ValueError) as error:
                last["error"] = repr(error)
                return None
            last["statuses"] = statuses
            done = set(statuses) == PARTIES and set(statuses.values()) <= ended
            return statuses if done else None

        ends = wait_until(
            all_ended, timeout_s, f"job {job_id} to end on every party", lambda: f"{last}\n{self.logs()}"
        )
        assert ends is not None
        return ends

    # ---- what the components and the database say ----------------------------------------------

    def calls(self, job_id: str, component: str) -> Counter[tuple[str, int]]:
        """How many times each party ran ``component`` (tests.scheduling.components counts them)."""
        path = self.calls_dir / f"{job_id}.{component}.calls"
        lines = path.read_text().splitlines() if path.exists() else []
        runs: Counter[tuple[str, int]] = Counter()
        for line in lines:
            role, party_id, _version = line.split(":")
            runs[(role, int(party_id))] += 1
        return runs

    def wait_running(self, job_id: str, component: str, timeout_s: float = JOB_TIMEOUT_S) -> None:
        """Until every party has started ``component``."""
        wait_until(
            lambda: set(self.calls(job_id, component)) >= PARTIES,
            timeout_s,
            f"{component} of job {job_id} to run on every party",
            self.logs,
        )

    def engine_cores(self) -> tuple[int, int]:
        """(remaining, total) cores of the site's engine, read from its database file."""
        database = Database(self.settings.resolved_database_url)
        try:
            engine = ResourceRepository(database).get_engine(ENGINE)
            return engine.remaining_cores, engine.total_cores
        finally:
            database.dispose()

    def assert_ended_cleanly(
        self, job_id: str, components: list[str], timeout_s: float = JOB_TIMEOUT_S
    ) -> None:
        """Success on every party, every task row success and unique, every core given back."""
        ends = self.wait_job_end(job_id, timeout_s)
        assert ends == dict.fromkeys(PARTIES, "success"), f"{ends}\n{self.logs()}"
        rows = self.job_rows(job_id)
        assert not any(row["f_resource_in_use"] for row in rows), rows

        tasks = self.task_rows(job_id)
        keys = [(t["f_component_name"], t["f_task_version"], t["f_role"], t["f_party_id"]) for t in tasks]
        assert len(keys) == len(set(keys)), f"a task version has two rows: {sorted(keys)}"
        assert {(c, r, p) for c, _, r, p in keys} == {(c, r, p) for c in components for r, p in PARTIES}
        # A run cut off by a lost worker ends failed and the job runs it again under the next version:
        # the latest version of every task must have succeeded.
        latest = {
            (c, r, p): max(v for c2, v, r2, p2 in keys if (c2, r2, p2) == (c, r, p)) for c, _, r, p in keys
        }
        not_success = [
            (key, t["f_status"])
            for key, t in zip(keys, tasks, strict=True)
            if t["f_status"] != "success" and key[1] == latest[(key[0], key[2], key[3])]
        ]
        assert not not_success, f"tasks not in success: {not_success}"

        remaining, total = self.engine_cores()
        assert remaining == total, f"the engine has {remaining} of {total} cores left after the job"
