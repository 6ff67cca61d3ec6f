from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from accord.errors import ArgumentError, RecordNotFound
from accord.persistence import Database, MetricKey, MetricRepository

from .helpers import ManualClock

LOSS = MetricKey("j1", "lr_0", "guest", 9999, 0, "train", "loss")


@pytest.fixture
def metrics(database: Database, clock: ManualClock) -> MetricRepository:
    return MetricRepository(database, clock=clock)


def test_log_appends_points_in_order(metrics: MetricRepository, clock: ManualClock) -> None:
    first = metrics.log(LOSS, [(0, 0.69), (1, 0.52)], metric_type="LOSS")
    later = clock.advance(seconds=1)
    second = metrics.log(LOSS, [[2, 0.41]], metric_type="LOSS")
    assert first.data == ((0, 0.69), (1, 0.52))
    assert second.data == ((0, 0.69), (1, 0.52), (2, 0.41))
    assert (second.key, second.task_id, second.metric_type) == (LOSS, "j1_lr_0", "LOSS")
    assert (second.create_time, second.update_time, second.meta) == (first.create_time, later, {})
    assert metrics.get(LOSS) == second


def test_meta_is_replaced_and_kept_apart_from_points(metrics: MetricRepository) -> None:
    metrics.set_meta(LOSS, {"unit": "iters", "curve": "loss"}, metric_type="LOSS", task_id="custom")
    metrics.log(LOSS, [(0, 1.0)], metric_type="LOSS")
    record = metrics.set_meta(LOSS, {"unit": "epochs"}, metric_type="LOSS")
    assert (record.meta, record.data, record.task_id) == ({"unit": "epochs"}, ((0, 1.0),), "custom")


def test_query_by_task_with_optional_narrowing(metrics: MetricRepository) -> None:
    auc = replace(LOSS, metric_namespace="eval", metric_name="auc")
    rerun = replace(LOSS, task_version=1)
    other_party = replace(LOSS, role="host", party_id=10000)
    for key in (LOSS, auc, rerun, other_party):
        metrics.log(key, [("x", 1)], metric_type="T")

    found = metrics.query("j1", "lr_0", "guest", 9999)
    assert [(m.key.task_version, m.key.metric_namespace, m.key.metric_name) for m in found] == [
        (0, "eval", "auc"),
        (0, "train", "loss"),
        (1, "train", "loss"),
    ]
    assert [m.key for m in metrics.query("j1", "lr_0", "guest", 9999, task_version=1)] == [rerun]
    assert [m.key for m in metrics.query("j1", "lr_0", "guest", 9999, metric_namespace="eval")] == [auc]
    assert [m.key for m in metrics.query("j1", "lr_0", "host", 10000)] == [other_party]
    assert metrics.query("j1", "other", "guest", 9999) == []


def test_points_must_be_pairs(metrics: MetricRepository) -> None:
    for bad in ([(1, 2, 3)], ["ab"], [(1,)]):
        with pytest.raises(ArgumentError):
            metrics.log(LOSS, bad, metric_type="LOSS")
    with pytest.raises(RecordNotFound):
        metrics.get(LOSS)


def test_concurrent_logs_lose_no_points(metrics: MetricRepository) -> None:
    def log_many(worker: int) -> None:
        for step in range(10):
            metrics.log(LOSS, [(worker, step)], metric_type="LOSS")

    threads = [threading.Thread(target=log_many, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(metrics.get(LOSS).data) == sorted((w, s) for w in range(4) for s in range(10))
