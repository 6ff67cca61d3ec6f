"""What ``/metrics`` exports, gathered at scrape time: the database's view and the processes' counters.

From the database (so every process agrees, and nothing is lost when a process restarts): jobs by
status and role, the queue (waiting jobs, the oldest one's wait, and how long started jobs waited),
task durations by module and role, reruns and automatic retries by module. From the snapshots the
site's processes write (:mod:`accord.metrics.process`): federation calls and bytes by peer and
outcome, Paillier operations, and each process's liveness.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy import select

from accord.metrics.process import COUNTERS, SNAPSHOT_SUFFIX, Labels, ProcessMetrics, Snapshot
from accord.persistence import Database
from accord.persistence.orm import JobRow, TaskRow
from accord.status import JobStatus

log = logging.getLogger(__name__)

QUEUE_WAIT_BUCKETS_S = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 86400.0)
TASK_DURATION_BUCKETS_S = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0)
# A process whose snapshot is older than this many of its beats is reported down.
MISSED_BEATS = 3
# Snapshots of processes gone this long are deleted: their totals leave the sums (a counter reset,
# which rate() absorbs) rather than the directory growing with every restart forever.
PRUNE_AFTER_S = 7 * 86400.0


class SiteCollector:
    """A prometheus_client collector over one site's database and metrics directory.

    ``own`` is the serving process's live counters (read directly rather than from its file, so a
    scrape sees them at once); ``clock`` gives seconds since the epoch.
    """

    def __init__(
        self,
        database: Database,
        *,
        directory: Path | None = None,
        own: ProcessMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.directory = directory
        self.own = own
        self._clock = clock
        # job id -> component name -> module: a job's DSL never changes, so each is read once.
        self._modules: dict[str, dict[str, str]] = {}

    def describe(self) -> Iterable[Metric]:
        # Nothing: the registry then skips its duplicate-name check instead of running a scrape.
        return []

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        yield from self._jobs(now)
        yield from self._tasks()
        yield from self._processes(now)

    # ---- database -----------------------------------------------------------------------------

    def _jobs(self, now: float) -> Iterator[Metric]:
        columns = (JobRow.job_id, JobRow.role, JobRow.status, JobRow.is_initiator)
        times = (JobRow.create_time, JobRow.start_time)
        with self.database.session_scope() as session:
            rows = session.execute(select(*columns, *times)).all()
        by_status: dict[tuple[str, str], int] = defaultdict(int)
        waiting: dict[str, datetime] = {}
        waits: list[float] = []
        for job_id, role, status, is_initiator, created, started in rows:
            by_status[(status, role)] += 1
            if not is_initiator:
                continue  # one row per job: the initiator's queue is the one that holds it
            if status == JobStatus.WAITING.value:
                waiting[job_id] = created
            elif started is not None:
                waits.append(max((started - created).total_seconds(), 0.0))
        jobs = GaugeMetricFamily(
            "accord_jobs", "Job party rows on this site, by status and role.", labels=["status", "role"]
        )
        for (status, role), count in sorted(by_status.items()):
            jobs.add_metric([status, role], count)
        yield jobs
        yield GaugeMetricFamily(
            "accord_queue_jobs", "Jobs this site initiated that wait in its queue.", value=len(waiting)
        )
        oldest = min(waiting.values(), default=None)
        yield GaugeMetricFamily(
            "accord_queue_oldest_wait_seconds",
            "How long the job longest in the queue has waited (0 when none waits).",
            value=max(now - oldest.timestamp(), 0.0) if oldest is not None else 0.0,
        )
        wait = HistogramMetricFamily(
            "accord_queue_wait_seconds", "Time jobs this site initiated waited from submit to start."
        )
        wait.add_metric([], _buckets(waits, QUEUE_WAIT_BUCKETS_S), sum_value=math.fsum(waits))
        yield wait

    def _tasks(self) -> Iterator[Metric]:
        columns = (TaskRow.job_id, TaskRow.component_name, TaskRow.role, TaskRow.task_version)
        more = (TaskRow.status, TaskRow.auto_retries, TaskRow.elapsed_ms)
        with self.database.session_scope() as session:
            rows = session.execute(select(*columns, *more)).all()
            self._learn_modules(session, {row[0] for row in rows})
        durations: dict[tuple[str, str], list[float]] = defaultdict(list)
        by_status: dict[tuple[str, str], int] = defaultdict(int)
        reruns: dict[str, int] = defaultdict(int)
        retries: dict[str, int] = defaultdict(int)
        for job_id, component, role, version, status, auto_retries, elapsed_ms in rows:
            module = self._modules.get(job_id, {}).get(component, "unknown")
            by_status[(status, module)] += 1
            if version > 0:
                reruns[module] += 1
            retries[module] += auto_retries or 0
            if elapsed_ms is not None:
                durations[(module, role)].append(elapsed_ms / 1000)
        tasks = GaugeMetricFamily(
            "accord_tasks", "Task rows on this site, by status and module.", labels=["status", "module"]
        )
        for (status, module), count in sorted(by_status.items()):
            tasks.add_metric([status, module], count)
        yield tasks
        duration = HistogramMetricFamily(
            "accord_task_duration_seconds",
            "Run time of ended tasks, by module and role.",
            labels=["module", "role"],
        )
        for (module, role), values in sorted(durations.items()):
            duration.add_metric(
                [module, role], _buckets(values, TASK_DURATION_BUCKETS_S), sum_value=math.fsum(values)
            )
        yield duration
        yield _counter(
            "accord_task_reruns",
            "Task versions after the first (reruns from a component), by module.",
            "module",
            reruns,
        )
        yield _counter(
            "accord_task_auto_retries",
            "Automatic retries of tasks (auto_retries), by module.",
            "module",
            retries,
        )

    def _learn_modules(self, session: Any, job_ids: set[str]) -> None:
        missing = job_ids - self._modules.keys()
        # Rows of deleted jobs are forgotten, so the cache holds the jobs the database holds.
        for gone in self._modules.keys() - job_ids:
            del self._modules[gone]
        if not missing:
            return
        found = session.execute(
            select(JobRow.job_id, JobRow.dsl).where(JobRow.job_id.in_(sorted(missing)))
        ).all()
        for job_id, dsl in found:
            components = dsl.get("components", {}) if isinstance(dsl, dict) else {}
            modules = self._modules.setdefault(job_id, {})
            for name, spec in components.items():
                if isinstance(spec, dict) and isinstance(spec.get("module"), str):
                    modules[name] = spec["module"]

    # ---- processes ----------------------------------------------------------------------------

    def _processes(self, now: float) -> Iterator[Metric]:
        snapshots = self._snapshots(now)
        if self.own is not None:
            snapshots = [s for s in snapshots if s.instance != self.own.instance]
            snapshots.append(self.own.snapshot())
        for name, (help_text, labels) in COUNTERS.items():
            totals: dict[Labels, float] = defaultdict(float)
            for snapshot in snapshots:
                for series, value in snapshot.counters.get(name, {}).items():
                    totals[series] += value
            family = CounterMetricFamily(name, help_text, labels=list(labels))
            for series, value in sorted(totals.items()):
                family.add_metric(list(series), value)
            yield family
        seen = GaugeMetricFamily(
            "accord_process_last_seen_timestamp_seconds",
            "When each server and worker process of the site last wrote its counters.",
            labels=["kind", "instance"],
        )
        up = GaugeMetricFamily(
            "accord_process_up",
            f"1 if the process wrote its counters within {MISSED_BEATS} of its intervals, else 0.",
            labels=["kind", "instance"],
        )
        for snapshot in sorted(snapshots, key=lambda s: (s.kind, s.instance)):
            seen.add_metric([snapshot.kind, snapshot.instance], snapshot.written_s)
            alive = now - snapshot.written_s <= MISSED_BEATS * snapshot.interval_s
            up.add_metric([snapshot.kind, snapshot.instance], 1.0 if alive else 0.0)
        yield seen
        yield up

    def _snapshots(self, now: float) -> list[Snapshot]:
        if self.directory is None or not self.directory.is_dir():
            return []
        found: list[Snapshot] = []
        for path in sorted(self.directory.glob(f"*{SNAPSHOT_SUFFIX}")):
            try:
                snapshot = Snapshot.from_json(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue  # pruned by another scrape meanwhile
            except (OSError, ValueError, KeyError, TypeError) as error:
                log.warning("skipping the unreadable metrics snapshot %s: %s", path, error)
                continue
            if now - snapshot.written_s > PRUNE_AFTER_S:
                path.unlink(missing_ok=True)
                continue
            found.append(snapshot)
        return found


def _buckets(values: Sequence[float], bounds: Sequence[float]) -> list[tuple[str, float]]:
    """Cumulative histogram buckets as prometheus_client wants them, +Inf last."""
    ordered = sorted(values)
    result: list[tuple[str, float]] = []
    index = 0
    for bound in bounds:
        while index < len(ordered) and ordered[index] <= bound:
            index += 1
        # repr: 1.0, 0.5, 14400.0, as Prometheus's own clients write le.
        result.append((repr(float(bound)), float(index)))
    result.append(("+Inf", float(len(ordered))))
    return result


def _counter(name: str, help_text: str, label: str, values: dict[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, help_text, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family
