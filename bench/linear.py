"""Linear models per epoch on ``default_credit_hetero_*`` (30,000 rows, 13 + 10 features), per engine.

A real standalone site (Temporal dev server, server, worker) uploads FATE's credit tables and runs
reader -> data_transform -> raw intersection -> the model with full-batch epochs under 1024-bit
Paillier, on the local engine and on Spark ``local[2]`` (``backend: 1``). Reported per (model, engine):

- ``epoch_s``: the model task's seconds on the guest over its epochs (key generation and set-up count
  against it);
- ``floor_s``: the Paillier work of one epoch of that model's protocol, timed in this process on the
  same cores with the project's kernels (before and after the jobs, the lower kept):
  - HeteroLinR and HeteroPoisson (guest, host, arbiter): the host's n encryptions of its forward,
    the n x (13 + 10) multi-exponentiation terms of both parties' encrypted gradients and their
    decryption;
  - HeteroSSHELR (guest and host, no arbiter): per party, the n encryptions and n decryptions of
    the shares its X·w and error products exchange and the n x F multi-exponentiation terms of its
    own X^T·[[e]] and of the other party's X·[[w]], as its protocol does them;
- ``ratio``: ``epoch_s / floor_s`` (target: within 1.5x).

Run: ``.venv/bin/python bench/linear.py [--models linr,poisson,sshe_lr] [--engines local,spark]
[--iterations 3] [--json]``. Figures depend on what else the machine is doing; measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.components.hetero_lr.params import HeteroLRParam  # noqa: E402
from accord.crypto import generate_keypair, set_parallelism, start_pool  # noqa: E402
from bench.hetero_lr import GUEST, HOST, example_site, submit, task_seconds  # noqa: E402

ROWS, GUEST_FEATURES, HOST_FEATURES, KEY_LENGTH = 30000, 13, 10, 1024
SPARK_RUN = {"num-executors": 1, "executor-cores": 2, "spark.ui.enabled": "false"}
# model name -> (FATE module, has an arbiter, the guest's label type)
MODELS = {
    "linr": ("HeteroLinR", True, "float"),
    "poisson": ("HeteroPoisson", True, "float"),
    "sshe_lr": ("HeteroSSHELR", False, "int"),
}
COMPONENT = "model_0"


def job(model: str, engine: str, iterations: int) -> tuple[dict[str, Any], dict[str, Any]]:
    module, with_arbiter, label_type = MODELS[model]
    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "data_transform_0": {
                "module": "DataTransform",
                "input": {"data": {"data": ["reader_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
            "intersection_0": {
                "module": "Intersection",
                "input": {"data": {"data": ["data_transform_0.data"]}},
                "output": {"data": ["data"]},
            },
            COMPONENT: {
                "module": module,
                "input": {"data": {"train_data": ["intersection_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }
    roles: dict[str, list[int]] = {"guest": [GUEST], "host": [HOST]}
    if with_arbiter:
        roles["arbiter"] = [HOST]
    params: dict[str, Any] = {
        "max_iter": iterations,
        "batch_size": -1,
        "early_stop": "weight_diff",
        "tol": 0,
        "learning_rate": 0.01,
        "encrypt_param": {"key_length": KEY_LENGTH},
    }
    conf: dict[str, Any] = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": roles,
        "component_parameters": {
            "common": {"intersection_0": {"intersect_method": "raw"}, COMPONENT: params},
            "role": {
                "guest": {
                    "0": {
                        "reader_0": {
                            "table": {"name": "default_credit_hetero_guest", "namespace": "experiment"}
                        },
                        "data_transform_0": {"with_label": True, "label_name": "y", "label_type": label_type},
                    }
                },
                "host": {
                    "0": {
                        "reader_0": {
                            "table": {"name": "default_credit_hetero_host", "namespace": "experiment"}
                        },
                        "data_transform_0": {"with_label": False},
                    }
                },
            },
        },
    }
    if engine == "spark":
        conf["job_parameters"] = {"common": {"backend": 1, "spark_run": SPARK_RUN}}
    return dsl, conf


def arbiter_floor(rng: np.random.Generator) -> None:
    """One HeteroLinR / HeteroPoisson epoch's Paillier work (see the module's docstring)."""
    public_key, private_key = generate_keypair(KEY_LENGTH)
    precision = HeteroLRParam().dot_precision
    encrypted = public_key.encrypt(rng.normal(size=ROWS) * 0.25)
    for width in (GUEST_FEATURES, HOST_FEATURES):
        private_key.decrypt(encrypted.dot(rng.normal(size=(ROWS, width)), precision))


def sshe_floor(rng: np.random.Generator) -> None:
    """One HeteroSSHELR epoch's Paillier work (see the module's docstring)."""
    precision = HeteroLRParam().dot_precision
    for own, other in ((GUEST_FEATURES, HOST_FEATURES), (HOST_FEATURES, GUEST_FEATURES)):
        public_key, private_key = generate_keypair(KEY_LENGTH)
        shares = public_key.encrypt(rng.normal(size=ROWS))
        private_key.decrypt(shares)
        private_key.decrypt(shares.dot(rng.normal(size=(ROWS, own)), precision))
        weights = public_key.encrypt(rng.normal(size=other))
        private_key.decrypt(weights.dot(rng.normal(size=(other, ROWS)), precision))


def crypto_floor(model: str, cores: int) -> float:
    set_parallelism(cores)
    start_pool()
    rng = np.random.default_rng(11)
    started = time.perf_counter()
    (sshe_floor if model == "sshe_lr" else arbiter_floor)(rng)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated: {', '.join(MODELS)}")
    parser.add_argument("--engines", default="local,spark", help="comma-separated: local, spark")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    models = [name.strip() for name in args.models.split(",") if name.strip()]
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    floors = {model: crypto_floor(model, cores=2) for model in models}
    rows: list[dict[str, Any]] = []
    with example_site("default_credit_hetero_guest", "default_credit_hetero_host") as (http, _):
        for model in models:
            for engine in engines:
                job_id, _ = submit(http, *job(model, engine, args.iterations))
                epoch = task_seconds(http, job_id)[COMPONENT] / args.iterations
                rows.append({"model": MODELS[model][0], "engine": engine, "epoch_s": epoch})
    floors = {model: min(floors[model], crypto_floor(model, cores=2)) for model in models}
    by_module = {MODELS[model][0]: floors[model] for model in models}
    for row in rows:
        row["floor_s"] = by_module[row["model"]]
        row["ratio"] = row["epoch_s"] / row["floor_s"]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'model':<14} {'engine':<6} {'epoch s':>8} {'floor s':>8} {'ratio':>6}")
    for row in rows:
        print(
            f"{row['model']:<14} {row['engine']:<6} {row['epoch_s']:>8.2f} {row['floor_s']:>8.2f} "
            f"{row['ratio']:>6.2f}"
        )
    print("target: each epoch within 1.5x of its crypto floor")


if __name__ == "__main__":
    main()
