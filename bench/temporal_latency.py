"""Latency of the Temporal dev server: its defaults against the tuning the standalone stack uses.

For each variant a dev server starts on free ports in a temp dir, a worker in this process runs a
workflow of N sequential no-op activities (the gap between two activity starts is one full round trip:
completion, workflow task, next schedule, dispatch), M empty workflows (start to result) and a few
workflows that sleep 200 ms on a durable timer.

Run: ``.venv/bin/python bench/temporal_latency.py [--activities 50] [--workflows 20] [--rounds 3] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from accord.settings import Settings
from accord.standalone.temporal_server import dev_server_args
from tests.support import free_port

SLEEP_S = 0.2
_starts: list[float] = []


@activity.defn
async def noop() -> None:
    _starts.append(time.perf_counter())


@workflow.defn
class Sequential:
    @workflow.run
    async def run(self, count: int) -> None:
        for _ in range(count):
            await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn
class Empty:
    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn
class Sleeper:
    @workflow.run
    async def run(self) -> None:
        # A durable timer: what a retry backoff or a polling loop in a workflow waits on.
        await asyncio.sleep(SLEEP_S)


@dataclass(frozen=True)
class Variant:
    name: str
    db_file: bool
    tuned: bool
    extra_args: tuple[str, ...] = ()


VARIANTS = (
    Variant("defaults, in memory", db_file=False, tuned=False),
    Variant("defaults, db file", db_file=True, tuned=False),
    Variant("tuned, db file", db_file=True, tuned=True),
)


def _p95(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


async def _connect(address: str, deadline_s: float) -> Client:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return await Client.connect(address)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


@dataclass
class Samples:
    """Raw figures of one variant, pooled over rounds (all in ms but ready_s)."""

    ready_s: list[float] = field(default_factory=list)
    activity_gaps: list[float] = field(default_factory=list)
    sequential: list[float] = field(default_factory=list)
    workflows: list[float] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def summary(self, name: str) -> dict[str, float | str]:
        return {
            "variant": name,
            "server_ready_s": statistics.median(self.ready_s),
            "activity_rtt_ms_mean": statistics.fmean(self.activity_gaps),
            "activity_rtt_ms_median": statistics.median(self.activity_gaps),
            "activity_rtt_ms_p95": _p95(self.activity_gaps),
            "sequential_workflow_ms": statistics.median(self.sequential),
            "workflow_ms_median": statistics.median(self.workflows),
            "workflow_ms_p95": _p95(self.workflows),
            "sleep_200ms_workflow_ms_median": statistics.median(self.sleeps),
        }


async def measure(variant: Variant, activities: int, workflows: int, into: Samples) -> None:
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        port, ui_port = free_port(), free_port()
        settings = Settings(home=Path(tmp), temporal_address=f"127.0.0.1:{port}", temporal_ui_port=ui_port)
        db_file = Path(tmp) / "temporal.db" if variant.db_file else None
        argv = [*dev_server_args(settings, db_file=db_file, tuned=variant.tuned), *variant.extra_args]
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            started = time.perf_counter()
            client = await _connect(settings.temporal_address, 30)
            into.ready_s.append(time.perf_counter() - started)
            await _run(client, activities, workflows, into)
        finally:
            server.terminate()
            server.wait(timeout=30)


async def _timed(into: list[float], run: Awaitable[object]) -> None:
    began = time.perf_counter()
    await run
    into.append((time.perf_counter() - began) * 1000)


async def _run(client: Client, activities: int, workflows: int, into: Samples) -> None:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[Sequential, Empty, Sleeper],
        activities=[noop],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        # The first workflow pays for task queue creation and caches; keep it out of the figures.
        await client.execute_workflow(Sequential.run, 2, id=f"warm-{queue}", task_queue=queue)
        _starts.clear()
        seq = client.execute_workflow(Sequential.run, activities, id=f"seq-{queue}", task_queue=queue)
        await _timed(into.sequential, seq)
        into.activity_gaps.extend((b - a) * 1000 for a, b in itertools.pairwise(_starts))
        for index in range(workflows):
            empty = client.execute_workflow(Empty.run, id=f"empty-{queue}-{index}", task_queue=queue)
            await _timed(into.workflows, empty)
        for index in range(3):
            sleep = client.execute_workflow(Sleeper.run, id=f"sleep-{queue}-{index}", task_queue=queue)
            await _timed(into.sleeps, sleep)


def _table(rows: list[dict[str, float | str]], activities: int) -> str:
    header = (
        f"{'variant':<22}{'activity rtt ms: mean':>22}{'median':>8}{'p95':>8}{'workflow ms':>14}{'p95':>8}"
        f"{f'{activities} acts ms':>14}{'sleep .2s ms':>14}{'ready s':>9}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['variant']!s:<22}{row['activity_rtt_ms_mean']:>22.1f}{row['activity_rtt_ms_median']:>8.1f}"
            f"{row['activity_rtt_ms_p95']:>8.1f}"
            f"{row['workflow_ms_median']:>14.1f}{row['workflow_ms_p95']:>8.1f}"
            f"{row['sequential_workflow_ms']:>14.0f}{row['sleep_200ms_workflow_ms_median']:>14.0f}"
            f"{row['server_ready_s']:>9.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--activities", type=int, default=50, help="sequential activities per workflow")
    parser.add_argument("--workflows", type=int, default=20, help="empty workflows timed one by one")
    parser.add_argument("--rounds", type=int, default=3, help="servers started per variant, interleaved")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    samples = {variant.name: Samples() for variant in VARIANTS}
    # Interleaved, so that a burst of load elsewhere on the machine does not land on one variant only.
    for _ in range(args.rounds):
        for variant in VARIANTS:
            asyncio.run(measure(variant, args.activities, args.workflows, samples[variant.name]))
    rows = [samples[variant.name].summary(variant.name) for variant in VARIANTS]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(_table(rows, args.activities))


if __name__ == "__main__":
    main()
