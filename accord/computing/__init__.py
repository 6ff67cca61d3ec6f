"""Block tables and the engines that compute them: in process (STANDALONE, EGGROLL) or on Spark.

See :mod:`accord.computing.table` for the operations and the rule that functions given to them are
picklable module-level functions; :func:`engine_for` picks the engine a task's job parameters name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accord.computing.block import SID, Block, decode, encode, sid_partition, sid_partitions
from accord.computing.local import LocalEngine
from accord.computing.table import BlockTable, Engine, Sender
from accord.errors import EngineUnavailable
from accord.settings import Settings

LOCAL_ENGINES = frozenset({"STANDALONE", "EGGROLL"})
SPARK_ENGINES = frozenset({"SPARK"})

__all__ = [
    "LOCAL_ENGINES",
    "SID",
    "SPARK_ENGINES",
    "Block",
    "BlockTable",
    "Engine",
    "LocalEngine",
    "Sender",
    "decode",
    "encode",
    "engine_for",
    "sid_partition",
    "sid_partitions",
]


def engine_for(
    computing_engine: str,
    settings: Settings,
    *,
    cores: int,
    partitions: int,
    spark_run: Mapping[str, Any] | None = None,
    app_name: str = "accord",
    work_dir: Path | None = None,
) -> Engine:
    """The engine for a task: ``cores`` (task_cores) and ``partitions`` (computing_partitions).

    The Spark engine starts (or joins) this process's Spark session with the job's ``spark_run``
    on the site's master; closing the engine stops that session.
    """
    engine = computing_engine.upper()
    if engine in LOCAL_ENGINES:
        return LocalEngine(cores=cores, partitions=partitions, work_dir=work_dir)
    if engine in SPARK_ENGINES:
        # Imported here: pyspark is an optional extra, needed only by jobs that ask for SPARK.
        from accord.computing.spark import SparkEngine, spark_conf, start_session

        conf = spark_conf(
            spark_run or {}, master=settings.spark_master, app_name=app_name, site_conf=settings.spark_conf
        )
        session = start_session(conf)
        return SparkEngine(
            session, partitions=partitions, table_root=settings.spark_table_root, stop_session=True
        )
    raise EngineUnavailable(
        f"computing engine {computing_engine!r} is not one this site runs",
        hint="use STANDALONE or EGGROLL (backend 0), or SPARK (backends 1 and 2)",
    )
