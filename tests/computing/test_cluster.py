"""A real Spark standalone cluster on 127.0.0.1 (a master and one worker) runs a block-table join and
aggregate; the results must be the local engine's.

The pyspark wheel has no sbin start scripts, so the master and worker start through bin/spark-class.
The worker took ~25 s to register here; the driver waits for it like any Spark application.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyspark
import pytest

from accord.computing import LocalEngine
from tests.computing import ops
from tests.computing.cluster_job import JVM_OPTIONS
from tests.support import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def standalone_cluster(tmp_path: Path) -> Iterator[str]:
    spark_home = Path(pyspark.__file__).parent
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_JAVA_OPTS": JVM_OPTIONS,
        "SPARK_DAEMON_MEMORY": "512m",
        "PYSPARK_PYTHON": sys.executable,
    }
    port = free_port()
    master = f"spark://127.0.0.1:{port}"
    spark_class = str(spark_home / "bin" / "spark-class")
    master_command = [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
    master_command += ["--port", str(port), "--webui-port", str(free_port())]
    worker_command = [spark_class, "org.apache.spark.deploy.worker.Worker", master, "--host", "127.0.0.1"]
    worker_command += ["--cores", "1", "--memory", "1g", "--webui-port", str(free_port())]
    worker_command += ["--work-dir", str(tmp_path / "work")]
    commands = [master_command, worker_command]
    processes = []
    logs = []
    try:
        for index, command in enumerate(commands):
            log = (tmp_path / f"daemon-{index}.log").open("wb")
            logs.append(log)
            processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        yield master
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


@pytest.mark.spark_cluster
def test_join_and_aggregate_on_a_standalone_cluster_match_the_local_engine(
    standalone_cluster: str, local_engine: LocalEngine, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.computing.cluster_job", standalone_cluster, str(tmp_path / "tables")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["executors"] == standalone_cluster

    left = local_engine.from_batches(ops.rows(3000).to_batches(max_chunksize=1000), 3)
    right = local_engine.from_batches(
        ops.rows(3000, first=1500, seed=1).rename_columns(["sid", "z", "y"]).to_batches(), 3
    )
    joined = left.join(right)
    assert result["count"] == joined.count() == 1500
    assert result["sum_x"] == joined.aggregate(0, ops.sum_x, ops.add)
    # Same partitions, same fold order: the float sum agrees exactly, not just to rounding.
    assert result["dot"] == joined.aggregate(0.0, ops.dot_xz, ops.add)
