"""The site collector over a real SQLite database and real snapshot files: what /metrics says."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from accord.crypto import counting, generate_keypair
from accord.metrics import ProcessMetrics, SiteCollector, Snapshot, site_registry
from accord.metrics.collector import PRUNE_AFTER_S
from accord.persistence import Database
from accord.persistence.orm import JobRow, TaskRow

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PARTIES = {"guest": 9999, "host": 10000}
DSL = {"components": {"reader_0": {"module": "Reader"}, "hetero_lr_0": {"module": "HeteroLR"}}}


@pytest.fixture
def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'accord.db'}")
    db.migrate()
    return db


def add_job(db: Database, job_id: str, status: str, *, wait_s: float | None, roles: tuple[str, ...]) -> None:
    with db.session_scope() as session:
        for index, role in enumerate(roles):
            session.add(
                JobRow(
                    job_id=job_id,
                    role=role,
                    party_id=PARTIES.get(role, 10000),
                    status=status,
                    is_initiator=index == 0,
                    initiator_role=roles[0],
                    initiator_party_id=9999,
                    dsl=DSL,
                    runtime_conf={},
                    create_time=T0,
                    update_time=T0,
                    start_time=None if wait_s is None else T0 + timedelta(seconds=wait_s),
                )
            )


def add_task(
    db: Database,
    job_id: str,
    component: str,
    role: str,
    *,
    version: int = 0,
    elapsed_ms: int | None,
    retries: int = 0,
) -> None:
    with db.session_scope() as session:
        session.add(
            TaskRow(
                job_id=job_id,
                component_name=component,
                task_version=version,
                role=role,
                party_id=PARTIES[role],
                task_id=f"{job_id}_{component}",
                status="success" if elapsed_ms is not None else "running",
                party_status="success" if elapsed_ms is not None else "running",
                auto_retries=retries,
                create_time=T0,
                update_time=T0,
                elapsed_ms=elapsed_ms,
            )
        )


def scrape(registry: CollectorRegistry) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """sample name -> sorted labels -> value, parsed back from the text a scrape returns."""
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def registry_of(collector: SiteCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def test_jobs_queue_and_waits_from_the_database(database: Database) -> None:
    add_job(database, "j1", "success", wait_s=2.0, roles=("guest", "host", "arbiter"))
    add_job(database, "j2", "running", wait_s=40.0, roles=("guest", "host"))
    add_job(database, "j3", "waiting", wait_s=None, roles=("guest", "host"))
    now = (T0 + timedelta(seconds=90)).timestamp()
    found = scrape(registry_of(SiteCollector(database, clock=lambda: now)))

    jobs = found["accord_jobs"]
    assert jobs[(("role", "guest"), ("status", "success"))] == 1
    assert jobs[(("role", "arbiter"), ("status", "success"))] == 1
    assert jobs[(("role", "host"), ("status", "waiting"))] == 1
    assert found["accord_queue_jobs"][()] == 1
    assert found["accord_queue_oldest_wait_seconds"][()] == pytest.approx(90.0)
    # Only initiator rows: one wait per job, not per party.
    assert found["accord_queue_wait_seconds_count"][()] == 2
    assert found["accord_queue_wait_seconds_sum"][()] == pytest.approx(42.0)
    buckets = found["accord_queue_wait_seconds_bucket"]
    assert buckets[(("le", "1.0"),)] == 0
    assert buckets[(("le", "5.0"),)] == 1
    assert buckets[(("le", "60.0"),)] == 2
    assert buckets[(("le", "+Inf"),)] == 2


def test_task_durations_reruns_and_retries_by_module(database: Database) -> None:
    add_job(database, "j1", "success", wait_s=0.0, roles=("guest", "host"))
    add_task(database, "j1", "reader_0", "guest", elapsed_ms=300)
    add_task(database, "j1", "hetero_lr_0", "guest", elapsed_ms=4_000, retries=2)
    add_task(database, "j1", "hetero_lr_0", "guest", version=1, elapsed_ms=20_000)
    add_task(database, "j1", "hetero_lr_0", "host", elapsed_ms=None)
    add_task(database, "j1", "mystery_0", "guest", elapsed_ms=10)  # not in the job's DSL
    found = scrape(registry_of(SiteCollector(database)))

    count = found["accord_task_duration_seconds_count"]
    assert count[(("module", "Reader"), ("role", "guest"))] == 1
    assert count[(("module", "HeteroLR"), ("role", "guest"))] == 2
    assert count[(("module", "unknown"), ("role", "guest"))] == 1
    assert (("module", "HeteroLR"), ("role", "host")) not in count  # still running: no duration
    total = found["accord_task_duration_seconds_sum"]
    assert total[(("module", "HeteroLR"), ("role", "guest"))] == pytest.approx(24.0)
    buckets = found["accord_task_duration_seconds_bucket"]
    assert buckets[(("le", "5.0"), ("module", "HeteroLR"), ("role", "guest"))] == 1
    assert buckets[(("le", "30.0"), ("module", "HeteroLR"), ("role", "guest"))] == 2
    assert found["accord_task_reruns_total"][(("module", "HeteroLR"),)] == 1
    assert found["accord_task_auto_retries_total"][(("module", "HeteroLR"),)] == 2
    assert found["accord_tasks"][(("module", "HeteroLR"), ("status", "running"))] == 1


def test_worker_counters_reach_the_server_through_the_home(database: Database, tmp_path: Path) -> None:
    directory = tmp_path / "home" / "run" / "metrics"
    clock = [1_000.0]
    worker = ProcessMetrics("worker", directory=directory, interval_s=5.0, clock=lambda: clock[0])
    server = ProcessMetrics("server", directory=directory, interval_s=5.0, clock=lambda: clock[0])
    worker.federation_call(10000, "StartTask", "ok", sent=120, received=30)
    worker.federation_call(10000, "StartTask", "unreachable", sent=500, received=0)
    server.federation_call(10000, "DeployModel", "ok", sent=10, received=5)
    worker.write()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(worker.path.stat().st_mode) == 0o600  # type: ignore[union-attr]
    # Counted after the write: the server sees them only with the worker's next snapshot.
    worker.federation_call(10000, "StartTask", "ok", sent=1, received=1)
    collector = SiteCollector(database, directory=directory, own=server, clock=lambda: clock[0])
    found = scrape(registry_of(collector))

    calls = found["accord_federation_calls_total"]
    assert calls[(("method", "StartTask"), ("outcome", "ok"), ("peer", "10000"))] == 1
    assert calls[(("method", "StartTask"), ("outcome", "unreachable"), ("peer", "10000"))] == 1
    assert calls[(("method", "DeployModel"), ("outcome", "ok"), ("peer", "10000"))] == 1  # live, unwritten
    sent = found["accord_federation_bytes_total"]
    assert sent[(("direction", "sent"), ("outcome", "ok"), ("peer", "10000"))] == 130
    assert sent[(("direction", "received"), ("outcome", "ok"), ("peer", "10000"))] == 35
    up = found["accord_process_up"]
    assert up[(("instance", worker.instance), ("kind", "worker"))] == 1
    assert up[(("instance", server.instance), ("kind", "server"))] == 1

    clock[0] += 16.0  # more than three beats without a snapshot: the worker is reported down
    found = scrape(registry_of(collector))
    assert found["accord_process_up"][(("instance", worker.instance), ("kind", "worker"))] == 0
    assert found["accord_process_last_seen_timestamp_seconds"][
        (("instance", worker.instance), ("kind", "worker"))
    ] == pytest.approx(1_000.0)

    clock[0] += PRUNE_AFTER_S  # gone for a week: its file goes, and its totals with it
    found = scrape(registry_of(collector))
    assert worker.path is not None and not worker.path.exists()
    assert (("instance", worker.instance), ("kind", "worker")) not in found["accord_process_up"]


def test_a_broken_snapshot_is_skipped_not_fatal(database: Database, tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "worker-bad.json").write_text("{not json")
    (directory / "worker-old.json").write_text(json.dumps({"kind": "worker"}))
    found = scrape(site_registry(database, directory=directory, own=None))
    assert found["accord_queue_jobs"][()] == 0
    assert "accord_process_up" not in found


def test_snapshot_round_trip_ignores_unknown_counters() -> None:
    metrics = ProcessMetrics("worker", directory=None)
    metrics.paillier("encrypt", 7)
    raw = json.loads(metrics.snapshot().to_json())
    raw["counters"]["accord_something_newer"] = [[["x"], 1.0]]
    back = Snapshot.from_json(json.dumps(raw))
    assert back.counters["accord_paillier_operations"] == {("encrypt",): 7.0}
    assert "accord_something_newer" not in back.counters
    metrics.write()  # no directory: counting in memory only, nothing written


def test_paillier_operations_are_counted_per_batch_while_installed() -> None:
    metrics = ProcessMetrics("worker", directory=None)
    public, private = generate_keypair(1024)
    with metrics.counting_paillier():
        encrypted = public.encrypt([0.5, -1.25, 3.0])
        doubled = (encrypted + encrypted) * 3.0
        total = doubled.sum()
        private.decrypt(total)
    public.encrypt([1.0])  # after the block: not counted
    ops = metrics.snapshot().counters["accord_paillier_operations"]
    assert ops[(counting.ENCRYPT,)] == 3
    assert ops[(counting.ADD,)] == 3 + 2
    assert ops[(counting.MULTIPLY,)] == 3
    assert ops[(counting.DECRYPT,)] == 1


def test_the_metrics_directory_is_made_private(tmp_path: Path) -> None:
    directory = tmp_path / "run" / "metrics"
    directory.mkdir(parents=True)
    os.chmod(directory, 0o755)
    ProcessMetrics("worker", directory=directory).write()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
