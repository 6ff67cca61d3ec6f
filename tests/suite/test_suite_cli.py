"""``accord suite``: FATE's own testsuites run unchanged against a real site, through the CLI.

The site runs in the test process (real Temporal dev server, real gRPC federation on loopback, SQLite),
behind a real uvicorn HTTP server; ``accord suite`` runs in a child process as a user runs it.
"""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import Run, accord
from tests.corpus import DSL_V2, FATE_ROOT
from tests.http_server import full_app, serve_http
from tests.pipeline.test_hetero_lr_examples import AUC_TOLERANCE, sklearn_auc
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

LR_SUITE = DSL_V2 / "hetero_logistic_regression" / "hetero_logistic_regression_testsuite.json"
INTERSECT_SUITE = DSL_V2 / "intersect" / "intersect_testsuite.json"
SUITE_TIMEOUT_S = 900.0
# The LR suite's 15 tasks take about six minutes here: CI runs these (and hetero_lr_normal, the
# predict task's dependency); several hosts run in tests/pipeline/test_hetero_lr_examples.py,
# one-vs-rest, sparse input, warm start, cross validation and validation per iteration in
# tests/components/, and `python bench/corpus.py` runs the suite whole.
LR_TASKS = ("hetero_lr_normal_predict", "hetero_lr_feature_engineering")


def http_server(running: RunningSite) -> AbstractAsyncContextManager[str]:
    """The site's whole API on a real uvicorn, as ``accord server`` serves it."""
    return serve_http(full_app(running.site), running.settings.http_host, running.settings.http_port)


async def run_suite(server: str, home: Path, *args: str) -> tuple[Run, dict[str, Any]]:
    run = await accord("suite", "--json", *args, server=server, home=home, timeout_s=SUITE_TIMEOUT_S)
    try:
        body: dict[str, Any] = json.loads(run.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"not JSON (exit {run.returncode}):\n{run.stdout}\n{run.stderr}")
    return run, body


def by_task(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["task"]: row for row in body["data"]["tasks"]}


async def test_the_corpus_testsuites_run_with_every_supported_task_succeeding(
    site: RunningSite, tmp_path: Path
) -> None:
    async with http_server(site) as server:
        lr_run, lr = await run_suite(
            server,
            tmp_path,
            "-i",
            str(LR_SUITE),
            "--data-base-dir",
            str(FATE_ROOT),
            "--parallel",
            "2",
            *(option for task in LR_TASKS for option in ("--task", task)),
        )
        intersect_run, intersect = await run_suite(
            server, tmp_path, "-i", str(INTERSECT_SUITE), "--skip-data", "--parallel", "2"
        )

    for run, body in ((lr_run, lr), (intersect_run, intersect)):
        assert run.returncode == 0, run.stdout + run.stderr
        assert body["retcode"] == 0
        statuses = {row["status"] for row in body["data"]["tasks"]}
        assert statuses <= {"success", "not supported"}, body["data"]["tasks"]

    tasks = by_task(lr)
    assert set(tasks) == {*LR_TASKS, "hetero_lr_normal"}
    normal = tasks["hetero_lr_normal"]
    assert normal["status"] == "success" and normal["job_id"]
    assert normal["metrics"]["auc"] >= sklearn_auc() - AUC_TOLERANCE
    assert normal["metrics"]["intersect_count"] == 569
    # The predict task ran with a deployed version of hetero_lr_normal's model.
    assert tasks["hetero_lr_normal_predict"]["status"] == "success"
    assert lr["data"]["summary"]["success"] == len(tasks)
    # FATE's pipeline of feature engineering before the model: scale, bin, select, encode, train.
    assert tasks["hetero_lr_feature_engineering"]["status"] == "success", tasks[
        "hetero_lr_feature_engineering"
    ]
    assert tasks["hetero_lr_feature_engineering"]["metrics"]["auc"] >= 0.95
    uploaded = {(u["namespace"], u["table_name"]) for u in lr["data"]["uploads"]}
    # host_0 and host_1 list the same table: one site, so one upload.
    assert len(lr["data"]["uploads"]) == len(uploaded) == 4

    tasks = by_task(intersect)
    assert tasks["rsa_intersect"]["status"] == "success"
    assert tasks["rsa_intersect"]["metrics"] == {"intersect_count": 569, "intersect_rate": 1.0}
    assert tasks["rsa_intersect_multi_host"]["status"] == "success"
    for name in (
        "dh_intersect",
        "ecdh_intersect",
        "ecdh_multi_exact_cardinality",
        "rsa_intersect_w_preprocess",
        "ecdh_intersect_w_preprocess",
        "intersect_rsa_cardinality",
    ):
        assert tasks[name]["status"] == "success", tasks[name]
    assert tasks["dh_intersect"]["metrics"]["intersect_count"] == 569
    for name in ("rsa_cache_intersect", "dh_cache_intersect", "ecdh_cache_intersect"):
        assert tasks[name]["status"] == "success", tasks[name]
    assert intersect["data"]["summary"]["success"] == 19


def write(path: Path, body: Any) -> Path:
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def small_suite(tmp_path: Path, **tasks: dict[str, Any]) -> Path:
    lr = DSL_V2 / "hetero_logistic_regression"
    data = [
        {"file": "breast_hetero_guest.csv", "table_name": "suite_guest", "namespace": "t", "role": "guest_0"},
        {"file": "breast_hetero_host.csv", "table_name": "suite_host", "namespace": "t", "role": "host_0"},
    ]
    conf = json.loads((lr / "hetero_lr_normal_conf.json").read_text())
    conf["component_parameters"]["common"]["hetero_lr_0"]["max_iter"] = 2
    conf["component_parameters"]["role"]["guest"]["0"]["reader_0"]["table"] = {
        "name": "suite_guest",
        "namespace": "t",
    }
    conf["component_parameters"]["role"]["host"]["0"]["reader_0"]["table"] = {
        "name": "suite_host",
        "namespace": "t",
    }
    missing = json.loads(json.dumps(conf))
    missing["component_parameters"]["role"]["host"]["0"]["reader_0"]["table"]["name"] = "no_such_table"
    write(tmp_path / "conf.json", conf)
    write(tmp_path / "missing_conf.json", missing)
    (tmp_path / "dsl.json").write_text((lr / "hetero_lr_normal_dsl.json").read_text())
    (tmp_path / "predict_dsl.json").write_text((lr / "hetero_lr_normal_predict_dsl.json").read_text())
    return write(tmp_path / "suite_testsuite.json", {"data": data, "tasks": tasks})


async def test_a_failed_task_fails_the_suite_and_skips_what_depends_on_it(
    site: RunningSite, tmp_path: Path
) -> None:
    suite = small_suite(
        tmp_path,
        broken={"dsl": "dsl.json", "conf": "missing_conf.json"},
        broken_predict={"dsl": "predict_dsl.json", "conf": "conf.json", "deps": "broken"},
        fine={"dsl": "dsl.json", "conf": "conf.json"},
    )
    data_dir = FATE_ROOT / "examples" / "data"
    async with http_server(site) as server:
        run, body = await run_suite(server, tmp_path, "-i", str(suite), "--data-base-dir", str(data_dir))
        table = await accord(
            "suite", "-i", str(suite), "--skip-data", "--task", "fine", server=server, home=tmp_path
        )

    assert run.returncode == 1, run.stdout + run.stderr
    assert body["retcode"] != 0 and "broken" in body["retmsg"]
    tasks = by_task(body)
    assert tasks["broken"]["status"] == "failed" and "no_such_table" in tasks["broken"]["message"]
    assert tasks["broken_predict"]["status"] == "skipped"
    assert "depends on broken" in tasks["broken_predict"]["message"]
    assert tasks["fine"]["status"] == "success" and tasks["fine"]["metrics"]["auc"] > 0.9
    # The table a user reads: a header, one line for the task asked for, the counts.
    assert table.returncode == 0, table.stdout + table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["TASK", "JOB", "ID"]
    assert lines[1].split()[0] == "fine" and "success" in lines[1] and "auc=" in lines[1]
    assert lines[-1] == "success: 1"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"data": [], "tasks": {"a": {"dsl": "x.json"}}}, "tasks.a.conf"),
        ({"data": [{"file": "f.csv", "table_name": "t", "namespace": "n", "role": "guest"}]}, "data.0.role"),
        ({"tasks": {"a": {"dsl": "d.json", "conf": "c.json", "deps": "b"}}}, "depends on 'b'"),
        (
            {
                "tasks": {
                    "a": {"dsl": "d.json", "conf": "c.json", "deps": "b"},
                    "b": {"dsl": "d.json", "conf": "c.json", "deps": "a"},
                }
            },
            "cycle",
        ),
        ({"data": [{"file": "nowhere.csv", "table_name": "t", "namespace": "n"}]}, "--data-base-dir"),
    ],
)
async def test_a_bad_testsuite_is_refused_with_a_coded_error(
    tmp_path: Path, body: dict[str, Any], words: str
) -> None:
    (tmp_path / "d.json").write_text(json.dumps({"components": {"reader_0": {"module": "Reader"}}}))
    (tmp_path / "c.json").write_text(json.dumps({"initiator": {"role": "guest", "party_id": 9999}}))
    suite = write(tmp_path / "bad_testsuite.json", body)
    run = await accord(
        "suite", "-i", str(suite), "--data-base-dir", str(tmp_path), server=None, home=tmp_path
    )
    assert run.returncode == 2, run.stdout + run.stderr
    envelope = json.loads(run.stdout)
    assert envelope["retcode"] > 0 and words in envelope["retmsg"]
    assert "Traceback" not in run.stderr
