"""The shared partitioner, the spark_run → SparkConf mapping, the site's Spark settings, engine_for."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.computing import LocalEngine, engine_for, sid_partition, sid_partitions
from accord.computing.spark import _surfaced as surfaced
from accord.computing.spark import spark_conf
from accord.errors import ArgumentError, DataError, EngineUnavailable
from accord.settings import Settings
from accord.site.config import load_site_config


@given(st.lists(st.text(max_size=40), max_size=60), st.integers(1, 97), st.integers(0, 5))
def test_vector_partitioner_is_the_plain_definition(sids: list[str], partitions: int, skip: int) -> None:
    # Sliced arrays (a non-zero offset) too, as batches split by a shuffle are.
    array = pa.array(["pad"] * skip + sids).slice(skip)
    assert sid_partitions(array, partitions).tolist() == [sid_partition(s, partitions) for s in sids]


def test_partitioner_is_fixed_across_processes_and_versions() -> None:
    # FNV-1a 64 of the UTF-8 bytes (the published offset basis, and the published hash of "a"):
    # what a peer on any engine, in any language, computes.
    assert sid_partition("", 1 << 62) == 0xCBF29CE484222325 % (1 << 62)
    assert sid_partition("a", 1000) == 0xAF63DC4C8601EC8C % 1000
    assert sid_partitions(pa.array(["a", "身份证"]), 7).tolist() == [
        0xAF63DC4C8601EC8C % 7,
        sid_partition("身份证", 7),
    ]


def test_a_row_without_sid_is_refused() -> None:
    with pytest.raises(DataError, match="no sid"):
        sid_partitions(pa.array(["a", None]), 4)


def test_spark_run_maps_to_spark_properties_as_fate_flow_passes_it_to_spark_submit() -> None:
    conf = spark_conf(
        {
            "num-executors": 2,
            "executor-cores": 3,
            "executor-memory": "2g",
            "driver-memory": "1g",
            "deploy-mode": "client",
            "conf": {"spark.sql.shuffle.partitions": 8, "spark.eventLog.enabled": True},
            "spark.kryoserializer.buffer.max": "256m",
        },
        master="spark://10.0.0.1:7077",
        app_name="job_1",
    )
    assert conf["spark.master"] == "spark://10.0.0.1:7077"
    assert conf["spark.app.name"] == "job_1"
    assert conf["spark.executor.instances"] == "2"
    assert conf["spark.executor.cores"] == "3"
    assert conf["spark.executor.memory"] == "2g"
    assert conf["spark.driver.memory"] == "1g"
    assert conf["spark.sql.shuffle.partitions"] == "8"
    assert conf["spark.eventLog.enabled"] == "true"
    assert conf["spark.kryoserializer.buffer.max"] == "256m"


@pytest.mark.parametrize(
    ("spark_run", "named"),
    [
        ({"executor-memroy": "2g"}, "spark_run.executor-memroy"),
        ({"conf": {"sql.shuffle.partitions": 2}}, "spark_run.conf.sql.shuffle.partitions"),
        ({"spark.master": "yarn"}, "cannot choose the Spark master"),
        ({"deploy-mode": "cluster"}, "deploy-mode"),
        ({"conf": [1]}, "spark_run.conf must be a mapping"),
    ],
)
def test_spark_run_refusals_name_the_key(spark_run: dict[str, object], named: str) -> None:
    with pytest.raises(ArgumentError, match=named):
        spark_conf(spark_run, master="local[2]", app_name="job")


def test_site_config_names_the_master_and_table_root(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("spark:\n  master: spark://10.0.0.5:7077\n  table_root: tables/spark\n", encoding="utf-8")
    settings = load_site_config(site)
    assert settings.spark_master == "spark://10.0.0.5:7077"
    assert settings.spark_table_root == str(tmp_path / "tables" / "spark")
    site.write_text("spark: {table_root: 'hdfs://nn:8020/accord'}\n", encoding="utf-8")
    assert load_site_config(site).spark_table_root == "hdfs://nn:8020/accord"
    assert load_site_config(site).spark_master == "local[2]"
    env = Settings.from_env({"ACCORD_SPARK_MASTER": "yarn"})
    assert env.spark_master == "yarn"


def test_the_sites_spark_conf_gives_defaults_a_job_overrides(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "spark:\n  conf: {spark.driver.host: 10.0.0.9, spark.eventLog.enabled: true}\n",
        encoding="utf-8",
    )
    settings = load_site_config(site)
    assert settings.spark_conf["spark.eventLog.enabled"] == "true"
    env = Settings.from_env({"ACCORD_SPARK_CONF": '{"spark.driver.host": "10.0.0.9"}'})
    assert env.spark_conf == {"spark.driver.host": "10.0.0.9"}
    conf = spark_conf({"executor-cores": 4}, master="local[2]", app_name="job", site_conf=settings.spark_conf)
    assert conf["spark.driver.host"] == "10.0.0.9"
    assert conf["spark.executor.cores"] == "4"
    with pytest.raises(ArgumentError, match=r"the site's spark\.conf\.spark\.master"):
        spark_conf({}, master="local[2]", app_name="job", site_conf={"spark.master": "yarn"})


def test_an_executor_without_accord_fails_with_a_coded_error_naming_the_fix() -> None:
    # What Spark raises on the driver when an executor cannot unpickle a task (abridged).
    failure = RuntimeError(
        "An error occurred while calling o42.collectAndServe.\n: org.apache.spark.SparkException: Job "
        'aborted due to stage failure: ... File "pyspark/serializers.py", line 471, in loads\n'
        "ModuleNotFoundError: No module named 'accord'\n\tat org.apache.spark.api.python..."
    )
    with pytest.raises(EngineUnavailable) as caught, surfaced():
        raise failure
    assert "cannot import 'accord'" in caught.value.retmsg
    assert "PYSPARK_PYTHON" in caught.value.retmsg and "spark.submit.pyFiles" in caught.value.retmsg


def test_engine_for_picks_by_computing_engine(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    for name in ("STANDALONE", "EGGROLL"):
        engine = engine_for(name, settings, cores=1, partitions=3, work_dir=tmp_path)
        assert isinstance(engine, LocalEngine) and engine.partitions == 3
        engine.close()
    with pytest.raises(EngineUnavailable, match="LINKIS_SPARK"):
        engine_for("LINKIS_SPARK", settings, cores=1, partitions=1)
    with pytest.raises(ArgumentError, match="number of cores"):
        LocalEngine(cores=0, partitions=1)
    with pytest.raises(ArgumentError, match="number of partitions"):
        LocalEngine(cores=1, partitions=0)
