"""The engines block-table tests run on: the local engine and one Spark local[2] session per test run.

Spark's start-up costs 7 s on a quiet machine and up to 50 s under load, so the session starts
once, lazily (only when a Spark test runs), and lives until the run ends. The fixtures are made
available to every test folder by tests/conftest.py; parametrize a test over ``engine`` to run it on
both.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.computing import LocalEngine
from accord.computing.spark import SparkEngine, spark_conf, start_session
from accord.computing.table import Engine

PARTITIONS = 4
# Spark's web UI and 200 shuffle partitions are nothing tests need; the JVM flags cut the
# driver's start-up CPU from ~12 to ~7 s here.
TEST_SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.executor.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


@pytest.fixture(scope="session")
def spark_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkEngine]:
    from pyspark import cloudpickle

    import tests.computing.ops

    # Spark's workers get the test functions by value: they need not import the tests package.
    cloudpickle.register_pickle_by_value(tests.computing.ops)
    conf = spark_conf({"conf": TEST_SPARK_CONF}, master="local[2]", app_name="accord-tests")
    root = str(tmp_path_factory.mktemp("spark-tables"))
    engine = SparkEngine(start_session(conf), partitions=PARTITIONS, table_root=root, stop_session=True)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def local_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    engine = LocalEngine(cores=2, partitions=PARTITIONS, work_dir=tmp_path_factory.mktemp("local-tables"))
    yield engine
    engine.close()


@pytest.fixture(params=["local", "spark"])
def engine(request: pytest.FixtureRequest) -> Engine:
    found: Engine = request.getfixturevalue(f"{request.param}_engine")
    return found
