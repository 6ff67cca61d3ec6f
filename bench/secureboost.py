"""SecureBoost end to end: FATE's breast job with 10 trees, and seconds per tree on 30,000 rows.

Starts a real standalone site (Temporal dev server, server and worker processes) in a temporary home,
uploads FATE's example tables over the HTTP API, then measures, per computing engine (the local one,
and Spark ``local[2]`` with ``backend: 1``):

- ``breast_sbt_wall_s``: FATE's ``test_secureboost_train_binary`` job (two readers, data transform,
  RSA intersections, HeteroSecureBoost validating every tree, evaluation) with ``num_trees`` 10 and
  depth 3, from submit to success; ``breast_sbt_auc`` its Evaluation's training AUC;
- ``credit_tree_s``: the HeteroSecureBoost task's seconds per tree on ``default_credit_hetero_*``
  (30,000 rows; guest 13 features and the label, host 10), depth 3, 1024-bit Paillier, 3 trees (key
  generation and binning count against it); ``credit_auc`` its Evaluation's training AUC;
- ``credit_floor_s``: the Paillier work of one such tree with the project's own kernels in this
  process, on the cores the worker has (before and after the jobs, the lower kept): the guest
  encrypts one packed ciphertext per row, the host sums them per feature and bin for the root and for
  the smaller child of each split (``n`` rows, then ``n / 2`` per further level), packs the bins as
  the host does and the guest decrypts them.

Figures depend on what else the machine is doing; measure on a quiet machine.

Run: ``.venv/bin/python bench/secureboost.py [--engines local,spark] [--json]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.components.boosting.hetero.packing import Packing  # noqa: E402
from accord.crypto import batch, histogram, paillier, set_parallelism, start_pool  # noqa: E402
from bench.hetero_lr import EXAMPLES, GUEST, call, example_site, submit, task_seconds  # noqa: E402

SBT = EXAMPLES / "dsl" / "v2" / "hetero_secureboost"
COMPONENT = "hetero_secure_boost_0"
CREDIT_ROWS, HOST_FEATURES, BINS, DEPTH, CREDIT_TREES, KEY_LENGTH = 30000, 10, 32, 3, 3, 1024
SPARK_RUN = {"num-executors": 1, "executor-cores": 2, "spark.ui.enabled": "false"}


def _on_engine(conf: dict[str, Any], engine: str) -> dict[str, Any]:
    if engine == "spark":
        common = conf.setdefault("job_parameters", {}).setdefault("common", {})
        common.update(backend=1, spark_run=SPARK_RUN)
    return conf


def auc(http: httpx.Client, job_id: str) -> float:
    metrics = call(
        http,
        "/v1/tracking/component/metric/all",
        {"job_id": job_id, "role": "guest", "party_id": GUEST, "component_name": "evaluation_0"},
    )["data"]
    return float(dict(metrics["train"][COMPONENT]["data"])["auc"])


def breast(http: httpx.Client, engine: str) -> dict[str, float]:
    dsl = json.loads((SBT / "test_secureboost_train_dsl.json").read_text())
    conf = json.loads((SBT / "test_secureboost_train_binary_conf.json").read_text())
    conf["component_parameters"]["common"][COMPONENT].update(num_trees=10, tree_param={"max_depth": 3})
    job_id, wall = submit(http, dsl, _on_engine(conf, engine))
    return {"breast_sbt_wall_s": wall, "breast_sbt_auc": auc(http, job_id)}


def credit(http: httpx.Client, engine: str) -> dict[str, float]:
    dsl = json.loads((SBT / "test_secureboost_train_dsl.json").read_text())
    for name in ("reader_1", "data_transform_1", "intersection_1"):
        del dsl["components"][name]
    dsl["components"][COMPONENT]["input"]["data"] = {"train_data": ["intersection_0.data"]}
    conf = copy.deepcopy(json.loads((SBT / "test_secureboost_train_binary_conf.json").read_text()))
    for role, table in (("guest", "default_credit_hetero_guest"), ("host", "default_credit_hetero_host")):
        section = conf["component_parameters"]["role"][role]["0"]
        section["reader_0"]["table"]["name"] = table
        for name in ("reader_1", "data_transform_1"):
            section.pop(name, None)
    common = conf["component_parameters"]["common"]
    common.pop("intersection_1", None)
    common["intersection_0"] = {"intersect_method": "raw"}
    sbt = common[COMPONENT]
    sbt.update(num_trees=CREDIT_TREES, tree_param={"max_depth": DEPTH}, bin_num=BINS)
    sbt.pop("validation_freqs", None)
    job_id, _ = submit(http, dsl, _on_engine(conf, engine))
    return {
        "credit_tree_s": task_seconds(http, job_id)[COMPONENT] / CREDIT_TREES,
        "credit_auc": auc(http, job_id),
    }


def crypto_floor(cores: int) -> float:
    """One credit tree's Paillier work with the project's kernels (see the module's docstring)."""
    set_parallelism(cores)
    start_pool()
    public_key, private_key = paillier.generate_keypair(KEY_LENGTH)
    rng = np.random.default_rng(5)
    gradients = np.column_stack([rng.normal(size=CREDIT_ROWS) * 0.5, np.full(CREDIT_ROWS, 0.25)])
    packing = Packing.plan(gradients, KEY_LENGTH, compress=True)
    bins = rng.integers(0, BINS, size=(CREDIT_ROWS, HOST_FEATURES))
    started = time.perf_counter()
    # One packed plaintext (g and h in their slots) per row, as the guest encrypts them.
    ciphertexts = batch.encrypt(public_key, [int(v) for v in rng.integers(0, 2**62, size=CREDIT_ROWS)])
    built = [CREDIT_ROWS] + [CREDIT_ROWS // 2] * (DEPTH - 1)
    for count in built:
        cells = histogram.grouped_sums(public_key, ciphertexts[:count], 1, bins[:count], BINS)
        packed = histogram.compress(public_key, cells, packing.cell_bits, packing.bins_per_ct)
        batch.decrypt(private_key, packed)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="local,spark", help="comma-separated: local, spark")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    figures: dict[str, dict[str, float]] = {}
    floor_before = crypto_floor(cores=2)
    tables = (
        "breast_hetero_guest",
        "breast_hetero_host",
        "default_credit_hetero_guest",
        "default_credit_hetero_host",
    )
    with example_site(*tables) as (http, _):
        for engine in engines:
            figures[engine] = {**breast(http, engine), **credit(http, engine)}
    floor = min(floor_before, crypto_floor(cores=2))
    for row in figures.values():
        row["credit_floor_s"] = floor
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"{'engine':<8} {'breast s':>9} {'breast auc':>11} {'credit tree s':>14} {'floor s':>8} "
        f"{'x floor':>8} {'credit auc':>11}"
    )
    for engine, row in figures.items():
        print(
            f"{engine:<8} {row['breast_sbt_wall_s']:>9.2f} {row['breast_sbt_auc']:>11.5f} "
            f"{row['credit_tree_s']:>14.2f} {floor:>8.2f} {row['credit_tree_s'] / floor:>8.2f} "
            f"{row['credit_auc']:>11.4f}"
        )
    print("targets: breast <= 7 s at AUC >= 0.999 (FATE 2.2 here: 142 s); credit tree <= 1.5x floor")


if __name__ == "__main__":
    main()
