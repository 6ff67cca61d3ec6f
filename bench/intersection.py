"""Intersection's cost on FATE's example tables: breast (569 ids) and default_credit (30,000 ids).

Runs the component on guest and one host in this process (the component test harness: real gRPC data
plane on loopback, one thread per party) and reports, per case, the wall time from start to both
outputs written and the CPU time of the whole process (both parties together; with RSA nearly all of
it is the host's, which signs every id twice: its own and the guest's blinded ones).

Figures depend on what else the machine is doing; measure on a quiet machine.

Run: ``.venv/bin/python bench/intersection.py [--key-length 1024] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.components.sdk import Dataset  # noqa: E402
from tests.components.harness import ComponentHarness  # noqa: E402

DATA = ROOT.parent / "shared" / "fate" / "examples" / "data"
DSL: dict[str, Any] = {
    "components": {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"], "model": ["model"]}},
        "intersection_0": {
            "module": "Intersection",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"]},
        },
    }
}


def table(name: str) -> Dataset:
    path = DATA / f"{name}.csv"
    header = path.read_text().splitlines()[0].split(",")
    rows = np.loadtxt(path, delimiter=",", skiprows=1, dtype=str)
    return Dataset.instances(list(rows[:, 0]), rows[:, 1:].astype(float), header=header[1:])


def measure(data: str, params: dict[str, Any]) -> dict[str, float]:
    guest, host = table(f"{data}_hetero_guest"), table(f"{data}_hetero_host")
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000]},
        "component_parameters": {"common": {"intersection_0": params}},
    }
    with tempfile.TemporaryDirectory() as home:
        harness = ComponentHarness(Path(home), DSL, conf)
        try:
            harness.transfer_timeout_s = 600
            harness.plant("guest", 9999, "data_transform_0", guest)
            harness.plant("host", 10000, "data_transform_0", host)
            wall, cpu = time.perf_counter(), time.process_time()
            harness.run_ok("intersection_0")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            found = len(harness.output("guest", 9999, "intersection_0"))
        finally:
            harness.close()
    return {"ids": float(len(guest)), "intersect_num": float(found), "wall_s": wall, "cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key-length", type=int, default=1024)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rsa: dict[str, Any] = {"intersect_method": "rsa", "rsa_params": {"key_length": args.key_length}}
    split = {**rsa, "rsa_params": {"key_length": args.key_length, "split_calculation": True}}
    hashed = {"intersect_method": "raw", "raw_params": {"use_hash": True}}
    cases: dict[str, tuple[str, dict[str, Any]]] = {
        "breast_rsa": ("breast", rsa),
        "breast_raw": ("breast", {"intersect_method": "raw"}),
        "credit_rsa": ("default_credit", rsa),
        "credit_rsa_split": ("default_credit", split),
        "credit_raw_sha256": ("default_credit", hashed),
    }
    results = {name: measure(data, params) for name, (data, params) in cases.items()}
    if args.json:
        print(json.dumps({"key_length": args.key_length, **results}, indent=2))
        return
    for name, figures in results.items():
        print(
            f"{name:20} {int(figures['ids']):6} ids  {int(figures['intersect_num']):6} common  "
            f"wall {figures['wall_s']:7.2f} s  cpu {figures['cpu_s']:7.2f} s"
        )


if __name__ == "__main__":
    main()
