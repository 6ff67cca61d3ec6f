"""The first federated pipeline end to end: FATE's hetero-LR breast job and an epoch on 30,000 rows.

Starts a real standalone site (tuned Temporal dev server, server and worker processes) in a temporary
home, uploads FATE's example tables over the HTTP API, then measures
- ``breast_wall_s``: FATE's ``hetero_lr_normal`` job (reader → data_transform → RSA intersection →
  HeteroLR → evaluation) with max_iter set to 10, from submit to success; ``breast_auc`` is its
  Evaluation's AUC; ``example_*`` are the same for the example unchanged (max_iter 30, early stop);
- ``credit_epoch_s``: seconds per HeteroLR epoch (full batch, 1024-bit Paillier) on
  ``default_credit_hetero_*`` (30,000 rows, 13 + 10 features): the HeteroLR task's time over its
  iterations, so key generation and set-up count against it.

Figures depend on what else the machine is doing; measure on a quiet machine.

Run: ``.venv/bin/python bench/hetero_lr.py [--credit-iters 3] [--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.settings import Settings  # noqa: E402
from accord.standalone.stack import Stack  # noqa: E402
from tests.support import local_credential, loopback_settings  # noqa: E402

EXAMPLES = ROOT.parent / "shared" / "fate" / "examples"
LR = EXAMPLES / "dsl" / "v2" / "hetero_logistic_regression"
GUEST, HOST = 9999, 10000


@contextlib.contextmanager
def example_site(*tables: str) -> Iterator[tuple[httpx.Client, Settings]]:
    """A real standalone site in a temporary home with FATE's example ``tables`` uploaded; its client.

    The site reads FATE's example files itself: they lie under its upload_roots.
    """
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as home:
        settings = loopback_settings(Path(home), upload_roots=(EXAMPLES / "data",))
        stack = Stack(settings)
        try:
            # Inside: a start that fails half way still stops what did start.
            stack.up()
            with httpx.Client(
                base_url=settings.http_address, timeout=120, headers=local_credential(settings)
            ) as http:
                for name in tables:
                    upload(http, name)
                yield http, settings
        finally:
            stack.down()


def print_figures(figures: dict[str, float], targets: dict[str, str], width: int = 32) -> None:
    print(f"{'metric':<{width}} {'value':>10}   target")
    for key, value in figures.items():
        print(f"{key:<{width}} {value:>10.3f}   {targets.get(key, '')}")


def call(http: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    reply = http.post(path, json=body).json()
    if reply["retcode"] != 0:
        raise RuntimeError(f"{path}: {reply['retmsg']}")
    return reply


def upload(http: httpx.Client, name: str) -> None:
    conf = {
        "file": str(EXAMPLES / "data" / f"{name}.csv"),
        "table_name": name,
        "namespace": "experiment",
        "head": 1,
        "partition": 4,
        "drop": 1,
    }
    call(http, "/v1/data/upload", conf)


def wait(http: httpx.Client, job_id: str) -> float:
    """Seconds from now until the job succeeds (polled every 50 ms)."""
    started = time.perf_counter()
    while True:
        rows = call(http, "/v1/job/query", {"job_id": job_id})["data"]
        status = next(r for r in rows if r["f_is_initiator"])["f_status"]
        if status == "success":
            return time.perf_counter() - started
        if status in ("failed", "canceled", "timeout"):
            raise RuntimeError(f"job {job_id} ended {status}")
        time.sleep(0.05)


def submit(http: httpx.Client, dsl: dict[str, Any], conf: dict[str, Any]) -> tuple[str, float]:
    started = time.perf_counter()
    job_id = str(call(http, "/v1/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})["jobId"])
    wait(http, job_id)
    return job_id, time.perf_counter() - started


def task_seconds(http: httpx.Client, job_id: str) -> dict[str, float]:
    rows = call(http, "/v1/job/task/query", {"job_id": job_id, "role": "guest", "party_id": GUEST})["data"]
    return {row["f_component_name"]: (row["f_elapsed"] or 0) / 1000 for row in rows}


def breast(http: httpx.Client, max_iter: int | None) -> tuple[str, float]:
    """FATE's hetero_lr_normal job, with ``max_iter`` if given; its job id and wall time."""
    dsl = json.loads((LR / "hetero_lr_normal_dsl.json").read_text())
    conf = json.loads((LR / "hetero_lr_normal_conf.json").read_text())
    if max_iter is not None:
        conf["component_parameters"]["common"]["hetero_lr_0"]["max_iter"] = max_iter
    return submit(http, dsl, conf)


def evaluation(http: httpx.Client, job_id: str) -> dict[str, float]:
    metrics = call(
        http,
        "/v1/tracking/component/metric/all",
        {"job_id": job_id, "role": "guest", "party_id": GUEST, "component_name": "evaluation_0"},
    )["data"]
    summary = dict(metrics["train"]["hetero_lr_0"]["data"])
    return {"auc": float(summary["auc"]), "ks": float(summary["ks"])}


def credit(http: httpx.Client, iterations: int) -> dict[str, float]:
    dsl = json.loads((LR / "hetero_lr_normal_dsl.json").read_text())
    del dsl["components"]["evaluation_0"]
    conf = copy.deepcopy(json.loads((LR / "hetero_lr_normal_conf.json").read_text()))
    for role, table in (("guest", "default_credit_hetero_guest"), ("host", "default_credit_hetero_host")):
        conf["component_parameters"]["role"][role]["0"]["reader_0"]["table"]["name"] = table
    lr = conf["component_parameters"]["common"]["hetero_lr_0"]
    lr.update({"max_iter": iterations, "batch_size": -1, "early_stop": "weight_diff", "tol": 0})
    conf["component_parameters"]["common"]["intersection_0"] = {"intersect_method": "raw"}
    job_id, _ = submit(http, dsl, conf)
    seconds = task_seconds(http, job_id)
    return {
        "credit_epoch_s": seconds["hetero_lr_0"] / iterations,
        "credit_intersection_s": seconds["intersection_0"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--credit-iters", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with example_site("breast_hetero_guest", "breast_hetero_host") as (http, _):
        job_id, wall = breast(http, 10)
        quality = evaluation(http, job_id)
        figures = {"breast_wall_s": wall, "breast_auc": quality["auc"], "breast_ks": quality["ks"]}
        figures.update({f"breast_{name}_s": s for name, s in task_seconds(http, job_id).items()})
        job_id, wall = breast(http, None)
        quality = evaluation(http, job_id)
        figures.update(example_wall_s=wall, example_auc=quality["auc"], example_ks=quality["ks"])
        for name in ("default_credit_hetero_guest", "default_credit_hetero_host"):
            upload(http, name)
        figures.update(credit(http, args.credit_iters))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print_figures(figures, {"breast_wall_s": "< 10", "example_auc": ">= sklearn - 0.01 (0.987)"})


if __name__ == "__main__":
    main()
