"""FATE's hetero_lr_normal example with ``backend: 1`` and a ``spark_run`` section, on a real Spark
standalone cluster (a master and one worker on 127.0.0.1), through a real standalone site (``accord
up``: Temporal, server and worker processes); its AUC must be the standalone engine's to 1e-9.

The pyspark wheel has no sbin start scripts, so the master and worker start through bin/spark-class.
The site's worker is the Spark driver: its settings name the master (``ACCORD_SPARK_MASTER``), a
table location the executors reach (``ACCORD_SPARK_TABLE_ROOT``; one machine here, so a local path)
and site-wide Spark properties (``ACCORD_SPARK_CONF``). The executors run this venv's Python, as a
real cluster's executors run one with the same accord installed; a second test gives them a Python
without accord and expects the coded error that says so.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyspark
import pytest
from sklearn.metrics import roc_auc_score

from accord.components.sdk import layout
from accord.errors import AccordError
from tests.lifecycle.test_cli_end_to_end import Cli, upload_conf
from tests.pipeline.test_hetero_lr_examples import LR_EXAMPLES
from tests.support import free_port, wait_until

pytestmark = pytest.mark.spark_cluster

REPO = Path(__file__).resolve().parents[2]
# Daemon and driver JVMs: the C1 compiler and the serial collector start in about half the CPU time.
JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
# The worker registered with the master in ~25 s here, and later under load.
REGISTER_TIMEOUT_S = 180.0
# The Spark job took 30 s on a quiet machine and 7 minutes at a load average of 25 on 2 cores (each
# component's tasks start a Spark application: a driver JVM and an executor).
JOB_TIMEOUT_S = 1500.0
GUEST = 9999
# What a FATE user adds to the example's conf to run it on Spark (FATE-Flow's spark_run keys); the
# cluster's one worker has one core and 1 GiB.
SPARK_JOB_PARAMETERS: dict[str, Any] = {
    "backend": 1,
    "spark_run": {
        "num-executors": 1,
        "executor-cores": 1,
        "executor-memory": "512m",
        "conf": {"spark.executor.extraJavaOptions": JVM_OPTIONS},
    },
}
# The site's Spark defaults: the driver (the site's worker) is reached on loopback, starts its JVM
# lean, and runs no web UI.
SITE_SPARK_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.extraJavaOptions": JVM_OPTIONS,
    "spark.ui.enabled": "false",
}


class SparkCluster:
    def __init__(self, master: str, web_ui: str) -> None:
        self.master = master
        self.web_ui = web_ui

    def state(self) -> dict[str, Any]:
        """The master's own view (its web UI's JSON): workers and applications."""
        with urllib.request.urlopen(f"{self.web_ui}/json/", timeout=10) as answer:
            state: dict[str, Any] = json.load(answer)
        return state

    def application_names(self) -> list[str]:
        state = self.state()
        return [app["name"] for app in state.get("activeapps", []) + state.get("completedapps", [])]


def _alive_workers(cluster: SparkCluster) -> int:
    try:
        return int(cluster.state().get("aliveworkers", 0))
    except OSError:
        return 0


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkCluster]:
    folder = tmp_path_factory.mktemp("spark-cluster")
    spark_home = Path(pyspark.__file__).parent
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_JAVA_OPTS": JVM_OPTIONS,
        "SPARK_DAEMON_MEMORY": "512m",
        "SPARK_WORKER_DIR": str(folder / "work"),
        "SPARK_LOG_DIR": str(folder / "logs"),
    }
    port, master_ui, worker_ui = free_port(), free_port(), free_port()
    master = f"spark://127.0.0.1:{port}"
    spark_class = str(spark_home / "bin" / "spark-class")
    master_command = [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
    master_command += ["--port", str(port), "--webui-port", str(master_ui)]
    worker_command = [spark_class, "org.apache.spark.deploy.worker.Worker", master, "--host", "127.0.0.1"]
    worker_command += ["--cores", "1", "--memory", "1g", "--webui-port", str(worker_ui)]
    worker_command += ["--work-dir", str(folder / "work")]
    commands = [master_command, worker_command]
    cluster = SparkCluster(master, f"http://127.0.0.1:{master_ui}")
    processes: list[subprocess.Popen[bytes]] = []
    logs = [folder / "master.log", folder / "worker.log"]

    def daemon_logs() -> str:
        return "\n".join(
            f"--- {log}:\n{log.read_text(errors='replace')[-3000:]}" for log in logs if log.exists()
        )

    try:
        for command, log in zip(commands, logs, strict=True):
            with log.open("wb") as out:
                processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
        wait_until(
            lambda: _alive_workers(cluster) >= 1,
            REGISTER_TIMEOUT_S,
            "the Spark worker registers",
            daemon_logs,
        )
        yield cluster
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def spark_site(tmp_path: Path, cluster: SparkCluster) -> Cli:
    cli = Cli(tmp_path, tmp_path / "accord")
    cli.env.update(
        {
            "ACCORD_SPARK_MASTER": cluster.master,
            "ACCORD_SPARK_TABLE_ROOT": str(tmp_path / "spark-tables"),
            "ACCORD_SPARK_CONF": json.dumps(SITE_SPARK_CONF),
            # Executors start this venv's interpreter, which imports accord, as the driver does.
            "PYSPARK_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
    )
    return cli


def evaluation_auc(home: Path, job_id: str) -> float:
    party = layout.party_dir(home, job_id, "guest", GUEST)
    summary = json.loads((layout.output_dir(party, "evaluation_0") / "summary.json").read_text())
    auc: float = summary["hetero_lr_0"]["train"]["auc"]
    return auc


def submit_and_wait(site: Cli, dsl: Path, conf: Path) -> dict[str, Any]:
    wait = ("--wait", "--timeout", str(JOB_TIMEOUT_S))
    submitted = site.run(
        "job", "submit", "-d", str(dsl), "-c", str(conf), *wait, timeout_s=JOB_TIMEOUT_S + 60
    )
    assert submitted["data"]["status"] == "success", submitted
    return submitted


def scores_and_auc(site: Cli, job_id: str, target: Path) -> tuple[dict[str, float], float]:
    """The guest's HeteroLR scores by id, and their AUC against the labels."""
    where = ("-j", job_id, "-r", "guest", "-p", str(GUEST), "-cpn", "hetero_lr_0")
    site.run("component", "output-data", *where, "-o", str(target))
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    scores = {row["id"]: float(row["predict_score"]) for row in rows}
    auc = roc_auc_score(
        [int(float(row["label"])) for row in rows], [float(row["predict_score"]) for row in rows]
    )
    return scores, float(auc)


@pytest.fixture
def site(tmp_path: Path, spark_cluster: SparkCluster) -> Iterator[Cli]:
    from accord.settings import Settings
    from accord.standalone.stack import Stack

    cli = spark_site(tmp_path, spark_cluster)
    yield cli
    Stack(Settings(home=cli.home)).down()


def test_hetero_lr_normal_with_backend_1_runs_on_the_cluster_with_the_standalone_auc(
    site: Cli, spark_cluster: SparkCluster, tmp_path: Path
) -> None:
    site.run("up", "--detach", "--json", timeout_s=600)
    for side in ("guest", "host"):
        site.run("data", "upload", "-c", str(upload_conf(tmp_path, side)), "--no-progress")
    dsl = LR_EXAMPLES / "hetero_lr_normal_dsl.json"
    fate_conf = LR_EXAMPLES / "hetero_lr_normal_conf.json"

    standalone = submit_and_wait(site, dsl, fate_conf)

    conf = copy.deepcopy(json.loads(fate_conf.read_text()))
    conf["job_parameters"] = {"common": SPARK_JOB_PARAMETERS}
    spark_conf_file = tmp_path / "hetero_lr_normal_spark_conf.json"
    spark_conf_file.write_text(json.dumps(conf))
    started = time.monotonic()
    on_spark = submit_and_wait(site, dsl, spark_conf_file)
    spark_job = on_spark["jobId"]
    # Backend 1 is FATE's Spark with RabbitMQ: the queue is set aside, and the submit result says so.
    assert any("RABBITMQ is not used" in note for note in on_spark["data"]["notes"]), on_spark

    # The job's Spark application ran on this cluster's master, not on a local[N] session.
    names = spark_cluster.application_names()
    assert any(name.startswith(spark_job) for name in names), names

    # The evaluation's summary rounds to 6 digits, as FATE's does; the AUC of the unrounded scores
    # (and every score) must agree to 1e-9.
    assert evaluation_auc(site.home, spark_job) == evaluation_auc(site.home, standalone["jobId"])
    standalone_scores, standalone_auc = scores_and_auc(site, standalone["jobId"], tmp_path / "standalone.csv")
    spark_scores, spark_auc = scores_and_auc(site, spark_job, tmp_path / "spark.csv")
    assert spark_scores.keys() == standalone_scores.keys()
    assert max(abs(spark_scores[sid] - standalone_scores[sid]) for sid in spark_scores) <= 1e-9
    assert abs(spark_auc - standalone_auc) <= 1e-9, (spark_auc, standalone_auc)
    assert spark_auc > 0.98
    print(f"spark job {spark_job}: {time.monotonic() - started:.1f} s, AUC {spark_auc}")
    site.run("down", "--json", timeout_s=120)


def test_executors_without_accord_fail_the_first_spark_task_with_a_coded_error(
    spark_cluster: SparkCluster, tmp_path: Path
) -> None:
    # This venv's interpreter without its site-packages: the Python of an executor on which accord
    # (and pyarrow) were never installed.
    bare = tmp_path / "bare-python"
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    bare.chmod(0o755)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.cluster.test_spark_standalone",
            spark_cluster.master,
            str(tmp_path / "t"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYSPARK_PYTHON": str(bare), "SPARK_LOCAL_IP": "127.0.0.1"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["code"] == 10124, outcome
    assert "cannot import 'accord" in outcome["message"], outcome
    assert "PYSPARK_PYTHON" in outcome["message"], outcome


def _driver_without_accord_on_executors(master: str, table_root: str) -> None:
    """A driver whose executors lack accord: count a table; print the error it ends with as JSON."""
    import pyarrow as pa

    from accord.computing.spark import SparkEngine, spark_conf, start_session

    conf = spark_conf(
        {"executor-memory": "512m", "total-executor-cores": 1, "conf": {"spark.task.maxFailures": 1}},
        master=master,
        app_name="accord-bare-executors",
        site_conf=SITE_SPARK_CONF,
    )
    engine = SparkEngine(start_session(conf), partitions=2, table_root=table_root, stop_session=True)
    batch = pa.record_batch({"sid": ["a", "b"], "x": [1.0, 2.0]})
    try:
        engine.from_batches([batch]).count()
        outcome: dict[str, Any] = {"code": 0, "message": "counted"}
    except AccordError as error:
        outcome = {"code": error.code, "message": error.retmsg}
    finally:
        engine.close()
    print(json.dumps(outcome))


if __name__ == "__main__":
    _driver_without_accord_on_executors(sys.argv[1], sys.argv[2])
