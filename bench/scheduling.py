"""Scheduling overhead of the standalone stack: per-stage time and jobs per second.

Starts a real standalone site (tuned Temporal dev server, server and worker processes) in a temporary
home, then measures
- a chain of N no-op components on two parties (guest 9999, host 10000): the time from one stage's
  start to the next one's, which is all scheduling since the components do nothing;
- 50 small jobs (two no-op components each) submitted at once, with the site's max_concurrent_jobs
  raised to let them all run: jobs per second from the first submit to the last success.

Figures depend on what else the machine is doing; measure on a quiet machine.

With ``--no-reuse`` the jobs turn reuse off (``job_parameters.common.reuse: false``), so the job does not
ask its parties for earlier runs of each component before starting it: the difference is that probe's
cost per stage.

Run: ``.venv/bin/python bench/scheduling.py [--stages 30] [--jobs 50] [--no-reuse] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.persistence import Database, TaskRepository  # noqa: E402
from accord.settings import Settings  # noqa: E402
from accord.standalone.stack import Stack  # noqa: E402
from accord.status import JobStatus  # noqa: E402
from accord.temporal_client import connect  # noqa: E402
from accord.workflows.job import JobWorkflow  # noqa: E402
from tests.support import local_credential, loopback_settings  # noqa: E402


def chain(stages: int) -> dict[str, Any]:
    components: dict[str, Any] = {}
    for i in range(stages):
        body: dict[str, Any] = {"module": "BenchNoop", "output": {"data": ["data"]}}
        if i:
            body["input"] = {"data": {"data": [f"c{i - 1}.data"]}}
        components[f"c{i}"] = body
    return {"components": components}


CONF: dict[str, Any] = {
    "dsl_version": 2,
    "initiator": {"role": "guest", "party_id": 9999},
    "role": {"guest": [9999], "host": [10000]},
    "job_parameters": {"common": {"task_cores": 1}},
}


async def run_job(http: httpx.AsyncClient, temporal: Client, dsl: dict[str, Any]) -> str:
    """Submit over HTTP as a user does; wait on the job workflow's result (a long poll, no load)."""
    reply = (await http.post("/v1/job/submit", json={"job_dsl": dsl, "job_runtime_conf": CONF})).json()
    if reply["retcode"] != 0:
        raise RuntimeError(reply["retmsg"])
    job_id: str = reply["jobId"]
    result = await temporal.get_workflow_handle_for(JobWorkflow.run, job_id).result()
    if result.status != JobStatus.SUCCESS:
        raise RuntimeError(f"job {job_id} ended {result.status}: {result.reason}")
    return job_id


def stage_times(settings: Settings, job_id: str, stages: int) -> list[float]:
    database = Database(settings.resolved_database_url)
    tasks = TaskRepository(database).list_tasks(job_id, role="guest")
    database.dispose()
    starts = {t.key.component_name: t.start_time for t in tasks}
    moments = [starts[f"c{i}"] for i in range(stages)]
    return [(b - a).total_seconds() * 1000 for a, b in itertools.pairwise(moments) if a and b]


async def measure(settings: Settings, stages: int, jobs: int, rounds: int) -> dict[str, float]:
    temporal = await connect(settings)
    async with httpx.AsyncClient(
        base_url=settings.http_address, timeout=60, headers=local_credential(settings)
    ) as http:
        await run_job(http, temporal, chain(2))  # warm-up: the queue workflow, caches, connections
        samples: list[float] = []
        chain_walls: list[float] = []
        for _ in range(rounds):
            started = time.perf_counter()
            job_id = await run_job(http, temporal, chain(stages))
            chain_walls.append(time.perf_counter() - started)
            samples += stage_times(settings, job_id, stages)
        started = time.perf_counter()
        await asyncio.gather(*(run_job(http, temporal, chain(2)) for _ in range(jobs)))
        burst = time.perf_counter() - started
    samples.sort()
    return {
        "stage_overhead_ms_median": statistics.median(samples),
        "stage_overhead_ms_p95": samples[max(0, int(len(samples) * 0.95) - 1)],
        "chain_wall_s": statistics.median(chain_walls),
        "stages": float(stages),
        "concurrent_jobs": float(jobs),
        "burst_wall_s": burst,
        "jobs_per_s": jobs / burst,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stages", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-reuse", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.no_reuse:
        CONF["job_parameters"]["common"]["reuse"] = False
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as home:
        settings = loopback_settings(
            Path(home),
            component_modules=("bench.noop_components",),
            max_concurrent_jobs=max(args.jobs, 5),
            computing_cores_per_node=4 * args.jobs,
        )
        stack = Stack(settings)
        try:
            # Inside: a start that fails half way still stops what did start.
            stack.up()
            figures = asyncio.run(measure(settings, args.stages, args.jobs, args.rounds))
        finally:
            stack.down()
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{'metric':<26} {'value':>10}   target")
    targets = {"stage_overhead_ms_median": "<= 50", "stage_overhead_ms_p95": "", "jobs_per_s": ">= 5"}
    for key, value in figures.items():
        print(f"{key:<26} {value:>10.2f}   {targets.get(key, '')}")


if __name__ == "__main__":
    main()
