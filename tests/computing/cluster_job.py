"""A block-table job run as the driver of a Spark standalone cluster: ``python -m tests.computing.cluster_job
MASTER TABLE_ROOT`` prints the join's count and aggregate as JSON (one SparkContext per process, so
the cluster's driver cannot be the test process, which holds the local[2] session)."""

from __future__ import annotations

import json
import sys

from pyspark import cloudpickle

import tests.computing.ops
from accord.computing.spark import SparkEngine, spark_conf, start_session
from tests.computing import ops

JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def main(master: str, table_root: str) -> None:
    cloudpickle.register_pickle_by_value(tests.computing.ops)
    conf = spark_conf(
        {
            "executor-memory": "512m",
            "total-executor-cores": 1,
            "conf": {
                "spark.ui.enabled": "false",
                "spark.driver.host": "127.0.0.1",
                "spark.driver.extraJavaOptions": JVM_OPTIONS,
                "spark.executor.extraJavaOptions": JVM_OPTIONS,
            },
        },
        master=master,
        app_name="accord-cluster-test",
    )
    engine = SparkEngine(start_session(conf), partitions=3, table_root=table_root, stop_session=True)
    try:
        left = engine.from_batches(ops.rows(3000).to_batches(max_chunksize=1000))
        right = engine.from_batches(
            ops.rows(3000, first=1500, seed=1).rename_columns(["sid", "z", "y"]).to_batches()
        )
        joined = left.join(right)
        result = {
            "executors": engine.context.getConf().get("spark.master"),
            "count": joined.count(),
            "dot": joined.aggregate(0.0, ops.dot_xz, ops.add),
            "sum_x": joined.aggregate(0, ops.sum_x, ops.add),
        }
    finally:
        engine.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
