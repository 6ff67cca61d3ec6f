"""The worker's Spark session outlives a task by a grace period, for the job's next component.

pyspark keeps one session per process and the test run's own (tests/engines.py) must not be stopped
here, so these tests hand SiteEngines a stand-in for pyspark's session through ``start_session``; the
engine built on it is never asked to compute.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import accord.computing.spark as spark
from accord.activities.services import SiteEngines
from accord.settings import Settings


class ContextStandIn:
    master = "local[2]"


class SessionStandIn:
    sparkContext = ContextStandIn()

    def __init__(self, conf: Mapping[str, str]) -> None:
        self.conf = dict(conf)
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[SessionStandIn]:
    sessions: list[SessionStandIn] = []

    def start(conf: Mapping[str, str]) -> Any:
        sessions.append(SessionStandIn(conf))
        return sessions[-1]

    monkeypatch.setattr(spark, "start_session", start)
    return sessions


def _open(engines: SiteEngines, name: str, spark_run: dict[str, Any] | None = None) -> Any:
    return engines.open("SPARK", cores=1, partitions=2, spark_run=spark_run or {}, app_name=name)


def test_the_next_component_reuses_the_idle_session(tmp_path: Path, started: list[SessionStandIn]) -> None:
    engines = SiteEngines(Settings(home=tmp_path), spark_idle_s=30)
    engines.close(_open(engines, "job_reader_0"))
    engines.close(_open(engines, "job_data_transform_0"))
    assert len(started) == 1 and not started[0].stopped
    engines.shutdown()
    assert started[0].stopped


def test_other_spark_settings_get_a_new_session_and_idle_ends_it(
    tmp_path: Path, started: list[SessionStandIn]
) -> None:
    engines = SiteEngines(Settings(home=tmp_path), spark_idle_s=0.2)
    engines.close(_open(engines, "a", {"executor-memory": "1g"}))
    engines.close(_open(engines, "b", {"executor-memory": "2g"}))
    assert len(started) == 2 and started[0].stopped
    deadline = time.monotonic() + 10
    while not started[1].stopped and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started[1].stopped


def test_a_busy_session_is_shared_not_stopped(tmp_path: Path, started: list[SessionStandIn]) -> None:
    engines = SiteEngines(Settings(home=tmp_path), spark_idle_s=30)
    first = _open(engines, "a", {"executor-memory": "1g"})
    second = _open(engines, "b", {"executor-memory": "2g"})
    assert len(started) == 1 and not started[0].stopped
    engines.close(first)
    engines.close(second)
    engines.shutdown()
    assert started[0].stopped
