"""HomoNN and HeteroNN per epoch on FATE's default-credit tables, beside HeteroNN's Paillier floor.

A real standalone site (Temporal dev server, server, worker) uploads FATE's tables and runs, on the
local engine with full-batch epochs:

- HomoNN: ``default_credit_homo_guest`` (guest) and ``default_credit_homo_host_1`` / ``_host_2`` (two
  hosts), 3 x 8,000 rows of 23 features, ``Linear(23, 16) - ReLU - Linear(16, 1) - Sigmoid`` with Adam
  under secure aggregation at the arbiter;
- HeteroNN: ``default_credit_hetero_guest`` (13 features and the label) and ``_host`` (10 features),
  30,000 rows after a raw intersection; bottom models ``Linear(13 | 10, 4) - ReLU``, an interactive layer
  of 4 outputs under 1024-bit Paillier, top model ``Linear(4, 1) - Sigmoid``.

Reported per model: ``epoch_s``, the model task's seconds on the guest over its epochs (key generation
and set-up count against it). For HeteroNN also ``floor_s``: one epoch's Paillier operations of the
interactive layer's protocol for the host (see ``accord/components/nn/hetero/interactive.py``), timed
in this process on the same cores with the project's kernels before and after the jobs (the lower
kept): the host's n x 4 encryptions of its bottom output, the guest's two n x 4 x 4 scalar products
(forward, and the bottom output's gradient), the n x 4 forward decryptions and n x 4 gradient
decryptions at the host, and the 4 x 4 weight-gradient dot products over n rows; ``share`` =
``floor_s / epoch_s``, the part of an epoch its Paillier floor explains.

Run: ``.venv/bin/python bench/nn.py [--models homo,hetero] [--epochs 2] [--json]``. Figures depend on
what else the machine is doing; measure on a quiet machine.
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

from accord.crypto import EncryptedVector, generate_keypair, set_parallelism, start_pool  # noqa: E402
from bench.hetero_lr import GUEST, HOST, example_site, submit, task_seconds, upload  # noqa: E402

ROWS, GUEST_FEATURES, HOST_FEATURES, HIDDEN, KEY_LENGTH = 30000, 13, 10, 4, 1024
SECOND_HOST = HOST + 1
COMPONENT = "nn_0"
ADAM = {"optimizer": "Adam", "lr": 0.01, "config_type": "pytorch"}
BCE = {"loss_fn": "BCELoss"}
TABLES = {
    "homo": ("default_credit_homo_guest", "default_credit_homo_host_1", "default_credit_homo_host_2"),
    "hetero": ("default_credit_hetero_guest", "default_credit_hetero_host"),
}


def _linear(position: int, inputs: int, outputs: int) -> dict[str, Any]:
    return {f"{position}-{position}": {"layer": "Linear", "in_features": inputs, "out_features": outputs}}


def _layer(position: int, name: str) -> dict[str, Any]:
    return {f"{position}-{position}": {"layer": name}}


def _dsl(module: str, intersect: bool) -> dict[str, Any]:
    components: dict[str, Any] = {
        "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "data_transform_0": {
            "module": "DataTransform",
            "input": {"data": {"data": ["reader_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    upstream = "data_transform_0.data"
    if intersect:
        components["intersection_0"] = {
            "module": "Intersection",
            "input": {"data": {"data": [upstream]}},
            "output": {"data": ["data"]},
        }
        upstream = "intersection_0.data"
    components[COMPONENT] = {
        "module": module,
        "input": {"data": {"train_data": [upstream]}},
        "output": {"data": ["data"], "model": ["model"]},
    }
    return {"components": components}


def _reader(table: str, with_label: bool) -> dict[str, Any]:
    transform: dict[str, Any] = {"with_label": with_label}
    if with_label:
        transform.update(label_name="y", label_type="int")
    return {
        "reader_0": {"table": {"name": table, "namespace": "experiment"}},
        "data_transform_0": transform,
    }


def homo_job(epochs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    guest, host_1, host_2 = TABLES["homo"]
    nn_define = {**_linear(0, 23, 16), **_layer(1, "ReLU"), **_linear(2, 16, 1), **_layer(3, "Sigmoid")}
    params = {
        "nn_define": nn_define,
        "loss": BCE,
        "optimizer": ADAM,
        "trainer": {"trainer_name": "fedavg_trainer", "param": {"epochs": epochs, "batch_size": -1}},
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST, SECOND_HOST], "arbiter": [HOST]},
        "component_parameters": {
            "common": {COMPONENT: params},
            "role": {
                "guest": {"0": _reader(guest, True)},
                "host": {"0": _reader(host_1, True), "1": _reader(host_2, True)},
            },
        },
    }
    return _dsl("HomoNN", intersect=False), conf


def hetero_job(
    epochs: int,
    tables: tuple[str, ...] = TABLES["hetero"],
    features: tuple[int, int] = (GUEST_FEATURES, HOST_FEATURES),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The HeteroNN job on ``tables`` (guest, host) of ``features`` (guest's, host's) columns."""
    guest, host = tables
    guest_features, host_features = features
    interactive = {
        "0-0": {
            "layer": "InteractiveLayer",
            "out_dim": HIDDEN,
            "guest_dim": HIDDEN,
            "host_dim": HIDDEN,
            "host_num": 1,
            "activation": "relu",
        }
    }
    common = {
        "epochs": epochs,
        "batch_size": -1,
        "interactive_layer_lr": 0.01,
        "encrypt_param": {"key_length": KEY_LENGTH},
        "optimizer": ADAM,
        "loss": BCE,
        "interactive_layer_define": interactive,
    }
    guest_nn = {
        "bottom_nn_define": {**_linear(0, guest_features, HIDDEN), **_layer(1, "ReLU")},
        "top_nn_define": {**_linear(0, HIDDEN, 1), **_layer(1, "Sigmoid")},
    }
    host_nn = {"bottom_nn_define": {**_linear(0, host_features, HIDDEN), **_layer(1, "ReLU")}}
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {
            "common": {"intersection_0": {"intersect_method": "raw"}, COMPONENT: common},
            "role": {
                "guest": {"0": {**_reader(guest, True), COMPONENT: guest_nn}},
                "host": {"0": {**_reader(host, False), COMPONENT: host_nn}},
            },
        },
    }
    return _dsl("HeteroNN", intersect=True), conf


def hetero_floor(rng: np.random.Generator) -> float:
    """One full-batch HeteroNN epoch's Paillier work for its host (see the module's docstring)."""
    public_key, private_key = generate_keypair(KEY_LENGTH)
    started = time.perf_counter()
    cells = ROWS * HIDDEN
    activations = public_key.encrypt(rng.random(cells))
    products: list[EncryptedVector] = []
    for _ in range(2):  # forward a_h·S_hᵀ, and δ·[[W_h]] for the bottom output's gradient
        for _ in range(HIDDEN):
            products.append(activations.multiply(rng.normal(size=cells)))
    for _ in range(2):  # the host decrypts the masked forward and the bottom output's gradient
        private_key.decrypt(activations)
    weights_gradient = [
        activations[k * ROWS : (k + 1) * ROWS].dot(rng.normal(size=(ROWS, HIDDEN))) for k in range(HIDDEN)
    ]
    private_key.decrypt(EncryptedVector.concatenate(weights_gradient))
    return time.perf_counter() - started


def crypto_floor(cores: int) -> float:
    set_parallelism(cores)
    start_pool()
    return hetero_floor(np.random.default_rng(11))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="homo,hetero", help="comma-separated: homo, hetero")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    models = [name.strip() for name in args.models.split(",") if name.strip()]
    floor = crypto_floor(cores=2) if "hetero" in models else None
    rows: list[dict[str, Any]] = []
    jobs = {"homo": ("HomoNN", homo_job), "hetero": ("HeteroNN", hetero_job)}
    with example_site() as (http, _):
        for model in models:
            for table in TABLES[model]:
                upload(http, table)
            module, make = jobs[model]
            job_id, _ = submit(http, *make(args.epochs))
            epoch = task_seconds(http, job_id)[COMPONENT] / args.epochs
            rows.append({"model": module, "epoch_s": epoch})
    if floor is not None:
        floor = min(floor, crypto_floor(cores=2))
    for row in rows:
        if row["model"] == "HeteroNN" and floor is not None:
            row["floor_s"] = floor
            row["share"] = floor / row["epoch_s"]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'model':<10} {'epoch s':>8} {'floor s':>8} {'share':>6}")
    for row in rows:
        floor_text = (
            f"{row['floor_s']:>8.2f} {row['share']:>6.2f}" if "floor_s" in row else f"{'-':>8} {'-':>6}"
        )
        print(f"{row['model']:<10} {row['epoch_s']:>8.2f} {floor_text}")


if __name__ == "__main__":
    main()
