"""Load: N small two-party jobs submitted at once to one standalone stack, each followed to its end.

Starts a real standalone site (Temporal dev server, server and worker processes) in a temporary home,
running the scheduling tests' components (``tests.scheduling.components``), then submits ``--jobs``
jobs (default 100) at the same moment over HTTP, each a chain of two ``TestSleep`` components with no
sleep on guest 9999 and host 10000, and waits on every job workflow's result. It prints
- ``jobs``, ``wall_s`` (first submit to last success) and ``jobs_per_s``;
- ``submit_to_success_p50_s`` / ``_p95_s``: per job, from sending its submit to its workflow's result;
- ``lost``: submissions without a distinct job id, jobs that did not end in success on both parties,
  or jobs missing from ``/v1/job/list/job``; ``duplicated``: job ids given twice, jobs with more than
  one row per party, or a component run more than once on a party.

The site's max_concurrent_jobs is 20 (``--max-concurrent``), so most jobs wait their turn in the
site's job queue. Figures depend on what else the machine is doing; measure on a quiet machine.

Run: ``.venv/bin/python bench/load.py [--jobs 100] [--max-concurrent 20] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from accord.settings import Settings  # noqa: E402
from accord.status import JobStatus  # noqa: E402
from accord.temporal_client import connect  # noqa: E402
from accord.workflows.job import JobWorkflow  # noqa: E402
from tests.scheduling.jobs import chain_dsl, conf  # noqa: E402
from tests.support import local_credential, loopback_settings  # noqa: E402

COMPONENTS = ("c0", "c1")
PARTIES = frozenset({("guest", 9999), ("host", 10000)})
DEFAULT_JOBS = 100
DEFAULT_MAX_CONCURRENT = 20
# Each job's whole life, queue included; generous for a loaded 2-core machine.
JOB_TIMEOUT_S = 600.0


@dataclass
class Submission:
    """One submit and what became of it; times are ``time.perf_counter()`` seconds."""

    sent: float
    job_id: str | None = None
    error: str = ""
    ended: float | None = None
    status: str = ""

    @property
    def latency_s(self) -> float | None:
        return None if self.ended is None else self.ended - self.sent


@dataclass
class LoadReport:
    submissions: list[Submission]
    wall_s: float
    # Counts from the site's own records, filled by check().
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return len(self.submissions)

    def latencies(self) -> list[float]:
        return sorted(s.latency_s for s in self.submissions if s.latency_s is not None)

    def figures(self) -> dict[str, float]:
        latencies = self.latencies()
        return {
            "jobs": float(self.jobs),
            "wall_s": self.wall_s,
            "jobs_per_s": self.jobs / self.wall_s if self.wall_s else 0.0,
            "submit_to_success_p50_s": statistics.median(latencies) if latencies else float("nan"),
            "submit_to_success_p95_s": percentile(latencies, 0.95),
            "lost": float(len(self.lost)),
            "duplicated": float(len(self.duplicated)),
        }


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values (nan for none)."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def load_settings(home: Path, *, max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT) -> Settings:
    """A standalone site on free ports running the test components, with cores for every running job."""
    return loopback_settings(
        home,
        task_queue=f"load-{os.getpid()}-{time.monotonic_ns() % 10**9}",
        component_modules=("tests.scheduling.components",),
        max_concurrent_jobs=max_concurrent_jobs,
        # Both parties of every admitted job hold their cores on this one site.
        computing_cores_per_node=4 * max_concurrent_jobs,
    )


def job() -> tuple[dict[str, Any], dict[str, Any]]:
    return chain_dsl(["TestSleep"] * len(COMPONENTS)), conf()


async def _one(http: httpx.AsyncClient, temporal: Any, start: asyncio.Event, record: Submission) -> None:
    dsl, job_conf = job()
    await start.wait()
    record.sent = time.perf_counter()
    try:
        reply = await http.post("/v1/job/submit", json={"job_dsl": dsl, "job_runtime_conf": job_conf})
        envelope = reply.json()
    except (httpx.HTTPError, ValueError) as error:
        record.error = f"submit failed: {error!r}"
        return
    if envelope.get("retcode") != 0 or not envelope.get("jobId"):
        record.error = f"submit refused: {envelope}"
        return
    record.job_id = str(envelope["jobId"])
    # A long poll on the job workflow's result: no load on the site while the job runs.
    handle = temporal.get_workflow_handle_for(JobWorkflow.run, record.job_id)
    try:
        result = await asyncio.wait_for(handle.result(), JOB_TIMEOUT_S)
    except Exception as error:  # a job that never ends is what the run must report, not crash on
        record.error = f"waiting for the result failed: {error!r}"
        return
    record.ended = time.perf_counter()
    record.status = result.status.value
    if result.status != JobStatus.SUCCESS:
        record.error = f"ended {result.status.value}: {result.reason}"


async def submit_all(settings: Settings, jobs: int) -> LoadReport:
    """Submit ``jobs`` jobs at one moment over HTTP and wait for each to end."""
    temporal = await connect(settings)
    limits = httpx.Limits(max_connections=jobs, max_keepalive_connections=jobs)
    async with httpx.AsyncClient(
        base_url=settings.http_address, timeout=120, limits=limits, headers=local_credential(settings)
    ) as http:
        start = asyncio.Event()
        submissions = [Submission(sent=0.0) for _ in range(jobs)]
        running = [asyncio.create_task(_one(http, temporal, start, record)) for record in submissions]
        await asyncio.sleep(0.1)  # every task is waiting on the event: they all go at once
        started = time.perf_counter()
        start.set()
        await asyncio.gather(*running)
        wall = time.perf_counter() - started
    return LoadReport(submissions=submissions, wall_s=wall)


def check(settings: Settings, report: LoadReport) -> LoadReport:
    """Fill ``lost`` and ``duplicated`` from the submissions, the HTTP API and the test components' runs."""
    ids = [s.job_id for s in report.submissions if s.job_id]
    report.lost += [s.error or "no job id" for s in report.submissions if s.job_id is None]
    report.lost += [f"{s.job_id}: {s.error}" for s in report.submissions if s.job_id and s.error]
    report.duplicated += [f"job id {i} given {n} times" for i, n in Counter(ids).items() if n > 1]
    with httpx.Client(base_url=settings.http_address, timeout=60, headers=local_credential(settings)) as http:
        listed = http.post("/v1/job/list/job", json={"limit": 1000}).json()["data"]["jobs"]
    rows = Counter((row["f_job_id"], row["f_role"], row["f_party_id"]) for row in listed)
    for job_id in set(ids):
        parties = {(role, party) for (j, role, party) in rows if j == job_id}
        if parties != PARTIES:
            report.lost.append(f"{job_id}: /v1/job/list/job has rows for {sorted(parties)}")
        statuses = {row["f_status"] for row in listed if row["f_job_id"] == job_id}
        if statuses != {"success"}:
            report.lost.append(f"{job_id}: party rows {sorted(statuses)}")
    report.duplicated += [f"{key}: {n} rows" for key, n in rows.items() if n > 1]
    calls = Path(os.environ.get("ACCORD_TEST_CALLS", settings.home / "calls"))
    for job_id in set(ids):
        for component in COMPONENTS:
            path = calls / f"{job_id}.{component}.calls"
            runs = Counter(path.read_text().splitlines() if path.exists() else [])
            report.duplicated += [
                f"{job_id}.{component}: {run} ran {n} times" for run, n in runs.items() if n > 1
            ]
    return report


def run(jobs: int, max_concurrent: int) -> LoadReport:
    from accord.standalone.stack import Stack

    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as home:
        os.environ["ACCORD_TEST_CALLS"] = str(Path(home) / "calls")
        settings = load_settings(Path(home) / "site", max_concurrent_jobs=max_concurrent)
        stack = Stack(settings)
        stack.up()
        try:
            report = asyncio.run(submit_all(settings, jobs))
            return check(settings, report)
        finally:
            stack.down()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    parser.add_argument("--max-concurrent", type=int, default=DEFAULT_MAX_CONCURRENT)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(args.jobs, args.max_concurrent)
    figures = report.figures()
    if args.json:
        print(json.dumps({**figures, "problems": report.lost + report.duplicated}, indent=2))
    else:
        targets = {"lost": "0", "duplicated": "0"}
        print(f"{'metric':<26} {'value':>10}   target")
        for key, value in figures.items():
            print(f"{key:<26} {value:>10.2f}   {targets.get(key, '')}")
        for problem in (report.lost + report.duplicated)[:20]:
            print(f"  {problem}", file=sys.stderr)
    if report.lost or report.duplicated:
        sys.exit(1)


if __name__ == "__main__":
    main()
