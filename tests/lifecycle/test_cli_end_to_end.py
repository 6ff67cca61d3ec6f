"""The whole model lifecycle as a user runs it on a fresh standalone site, from the CLI alone.

``accord up``; upload; FATE's hetero_lr_normal; ``model deploy``; the predict DSL and conf the site
generates; the predict job; ``model load`` and ``bind``; ``accord predict`` over the Inference endpoint.
Everything is real: the dev server, the server and worker processes, gRPC, SQLite.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accord.settings import ENV_PREFIX, Settings
from accord.standalone.stack import Stack
from tests.chaos.site import REPO_ROOT, START_TIMEOUT_S, log_tails
from tests.pipeline.test_hetero_lr_examples import DATA, LR_EXAMPLES
from tests.support import free_port

ACCORD = [sys.executable, "-m", "accord"]
JOB_TIMEOUT_S = 300.0
GUEST = "9999"
CPN_LIST = "reader_0,data_transform_0,intersection_0,hetero_lr_0"
SERVICE_ID = "breast"


class Cli:
    def __init__(self, tmp_path: Path, home: Path) -> None:
        base = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
        self.home = home
        self.server = f"http://127.0.0.1:{free_port()}"
        self.env = {
            **base,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), base.get("PYTHONPATH")])),
            "ACCORD_HOME": str(home),
            "ACCORD_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "ACCORD_TEMPORAL_UI_PORT": str(free_port()),
            "ACCORD_HTTP_PORT": self.server.rsplit(":", 1)[1],
            "ACCORD_FEDERATION_PORT": str(free_port()),
            "ACCORD_SERVING_PORT": str(free_port()),
            "ACCORD_TASK_QUEUE": f"lifecycle-{tmp_path.name}",
            "ACCORD_CLI_CONF": str(tmp_path / "cli.json"),
            "ACCORD_SERVER": self.server,
        }

    def run(self, *args: str, timeout_s: float = 120) -> dict[str, Any]:
        """The command's JSON envelope; the test fails with the command's output and the logs otherwise."""
        done = subprocess.run(
            [*ACCORD, *args], env=self.env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        explained = (
            f"accord {' '.join(args)}: exit {done.returncode}\nstdout:\n{done.stdout}\n"
            f"stderr:\n{done.stderr}\n{log_tails(self.home)}"
        )
        assert done.returncode == 0, explained
        envelope: dict[str, Any] = json.loads(done.stdout)
        assert envelope["retcode"] == 0, explained
        return envelope


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    cli = Cli(tmp_path, tmp_path / "accord")
    yield cli
    Stack(Settings(home=cli.home)).down()


def upload_conf(tmp_path: Path, side: str) -> Path:
    path = tmp_path / f"upload_{side}.json"
    conf = {
        "file": str(DATA / f"breast_hetero_{side}.csv"),
        "head": 1,
        "partition": 4,
        "namespace": "experiment",
        "table_name": f"breast_hetero_{side}",
    }
    path.write_text(json.dumps(conf))
    return path


def submit_and_wait(cli: Cli, dsl: Path, conf: Path) -> dict[str, Any]:
    wait = ("--wait", "--timeout", str(JOB_TIMEOUT_S))
    submitted = cli.run("job", "submit", "-d", str(dsl), "-c", str(conf), *wait, timeout_s=JOB_TIMEOUT_S + 60)
    assert submitted["data"]["status"] == "success", submitted
    return submitted


def scores_of(cli: Cli, job_id: str, target: Path) -> dict[str, float]:
    where = ("-j", job_id, "-r", "guest", "-p", GUEST, "-cpn", "hetero_lr_0")
    cli.run("component", "output-data", *where, "-o", str(target))
    with target.open(newline="") as handle:
        return {row["id"]: float(row["predict_score"]) for row in csv.DictReader(handle)}


def test_train_deploy_predict_load_bind_infer(cli: Cli, tmp_path: Path) -> None:
    cli.run("up", "--detach", "--json", timeout_s=4 * START_TIMEOUT_S)
    for side in ("guest", "host"):
        cli.run("data", "upload", "-c", str(upload_conf(tmp_path, side)), "--no-progress")

    trained = submit_and_wait(
        cli, LR_EXAMPLES / "hetero_lr_normal_dsl.json", LR_EXAMPLES / "hetero_lr_normal_conf.json"
    )
    model_id = trained["data"]["model_info"]["model_id"]
    train_version = trained["data"]["model_info"]["model_version"]
    training_scores = scores_of(cli, trained["jobId"], tmp_path / "train.csv")

    deployed = cli.run(
        "model", "deploy", "--model-id", model_id, "--model-version", train_version, "--cpn-list", CPN_LIST
    )
    version = deployed["data"]["model_version"]
    assert version != train_version
    model = ("--model-id", model_id, "--model-version", version)
    predict_dsl, predict_conf = tmp_path / "predict_dsl.json", tmp_path / "predict_conf.json"
    cli.run("model", "get-predict-dsl", *model, "-o", str(predict_dsl))
    cli.run("model", "get-predict-conf", *model, "-o", str(predict_conf))
    # The compiler derives the same predict DSL that FATE ships beside the training example.
    assert json.loads(predict_dsl.read_text()) == json.loads(
        (LR_EXAMPLES / "hetero_lr_normal_predict_dsl.json").read_text()
    )
    listed = cli.run("model", "list", "--model-id", model_id)["data"]
    assert {entry["model_version"] for entry in listed} >= {train_version, version}

    predicted = submit_and_wait(cli, predict_dsl, predict_conf)
    predict_scores = scores_of(cli, predicted["jobId"], tmp_path / "predict.csv")
    assert predict_scores.keys() == training_scores.keys()
    assert all(abs(predict_scores[sid] - training_scores[sid]) <= 1e-9 for sid in predict_scores)

    loaded = cli.run("model", "load", *model)["data"]
    assert {part["party"]["party_id"] for part in loaded["parties"]} == {9999, 10000}
    cli.run("model", "bind", "--service-id", SERVICE_ID, *model)

    with (DATA / "breast_hetero_guest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows[:5]:
        features = {name: float(value) for name, value in row.items() if name not in ("id", "y")}
        request = ("--service-id", SERVICE_ID, "--sample-id", row["id"], "--features", json.dumps(features))
        answer = cli.run("predict", *request)["data"]
        assert answer["model_version"] == version
        assert abs(answer["prediction"]["score"] - predict_scores[row["id"]]) <= 1e-9
        assert answer["prediction"]["label"] == int(answer["prediction"]["score"] >= 0.5)

    cli.run("down", "--json", timeout_s=120)
