"""Feature engineering: HeteroFeatureBinning (quantile, 10 bins) + HeteroFeatureSelection, per engine.

A real standalone site (Temporal dev server, server, worker) uploads the tables and runs
reader -> data_transform -> raw intersection -> binning -> selection (IV threshold over both parties'
columns), on FATE's ``default_credit_hetero_*`` (30,000 rows, 13 + 10 features) and on seeded synthetic
tables (guest 10 features + label, host 30 features, see bench/scale.py), on the local engine and on
Spark ``local[2]`` (``backend: 1``). Reported per (data, engine):

- ``binning_s`` / ``selection_s``: the guest's task seconds;
- ``floor_s``: the same Paillier work the binning does, timed in this process on the same cores with
  the project's kernels: one encryption per label, per host column the sums of the ciphertexts in each
  bin, their re-randomization, and the decryption of every sum;
- ``crypto_share``: ``floor_s / binning_s``, what of the binning task the Paillier work is at least;
- ``ratio``: ``binning_s / floor_s`` (target: within 1.5x).

Run: ``.venv/bin/python bench/feature.py [--rows 1000000] [--engines local,spark] [--json]``.
Figures depend on what else the machine is doing; measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.crypto import EncryptedVector, generate_keypair, set_parallelism, start_pool  # noqa: E402
from accord.standalone.stack import Stack  # noqa: E402
from bench.hetero_lr import task_seconds  # noqa: E402
from bench.scale import SPARK_RUN, run_job, upload, write_tables  # noqa: E402
from tests.support import local_credential, loopback_settings  # noqa: E402

EXAMPLES = ROOT.parent / "shared" / "fate" / "examples"
GUEST, HOST = 9999, 10000
BINS = 10
KEY_LENGTH = 1024


def job(guest_table: str, host_table: str, engine: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def component(module: str, upstream: str, model: bool = True) -> dict[str, Any]:
        output: dict[str, Any] = {"data": ["data"]}
        if model:
            output["model"] = ["model"]
        return {"module": module, "input": {"data": {"data": [f"{upstream}.data"]}}, "output": output}

    dsl = {
        "components": {
            "reader_0": {"module": "Reader", "output": {"data": ["data"]}},
            "data_transform_0": component("DataTransform", "reader_0"),
            "intersection_0": component("Intersection", "data_transform_0", model=False),
            "binning_0": component("HeteroFeatureBinning", "intersection_0"),
            "selection_0": {
                **component("HeteroFeatureSelection", "binning_0"),
                "input": {
                    "data": {"data": ["binning_0.data"]},
                    "isometric_model": ["binning_0.model"],
                },
            },
        }
    }
    common: dict[str, Any] = {"task_cores": 2, "computing_partitions": 4}
    if engine == "spark":
        common.update(backend=1, spark_run=SPARK_RUN)
    reader = {
        "guest": {"table": {"name": guest_table, "namespace": "scale"}},
        "host": {"table": {"name": host_table, "namespace": "scale"}},
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "job_parameters": {"common": common},
        "component_parameters": {
            "common": {
                "intersection_0": {"intersect_method": "raw"},
                "binning_0": {
                    "method": "quantile",
                    "bin_num": BINS,
                    "encrypt_param": {"key_length": KEY_LENGTH},
                },
                "selection_0": {
                    "filter_methods": ["iv_filter"],
                    "iv_param": {
                        "metrics": ["iv"],
                        "filter_type": ["threshold"],
                        "threshold": [0.02],
                        "select_federated": True,
                    },
                },
            },
            "role": {
                role: {
                    "0": {
                        "reader_0": reader[role],
                        "data_transform_0": {"with_label": role == "guest"},
                    }
                }
                for role in ("guest", "host")
            },
        },
    }
    return dsl, conf


def crypto_floor(labels: np.ndarray, host_bins: np.ndarray, cores: int) -> float:
    """The binning's Paillier work on these labels and host bin indexes (rows x host columns)."""
    set_parallelism(cores)
    start_pool()
    public_key, private_key = generate_keypair(KEY_LENGTH)
    started = time.perf_counter()
    encrypted = public_key.encrypt(labels.astype(float))
    for column in host_bins.T:
        order = np.argsort(column, kind="stable")
        edges = np.concatenate([[0], np.cumsum(np.bincount(column, minlength=BINS + 1))])
        rows = encrypted[order]
        sums = [rows[int(start) : int(end)].sum() for start, end in itertools.pairwise(edges)]
        private_key.decrypt(EncryptedVector.concatenate(sums).rerandomized())
    return time.perf_counter() - started


def floor_inputs(guest_csv: Path, host_csv: Path) -> tuple[np.ndarray, np.ndarray]:
    """The guest's labels and the host's quantile bins of the rows both have (what the binning sees)."""
    guest = np.genfromtxt(guest_csv, delimiter=",", skip_header=1)
    host = np.genfromtxt(host_csv, delimiter=",", skip_header=1)
    shared = np.intersect1d(guest[:, 0], host[:, 0])
    labels = guest[np.isin(guest[:, 0], shared), 1]
    features = host[np.isin(host[:, 0], shared), 1:]
    cuts = np.quantile(features, np.linspace(0, 1, BINS + 1)[1:-1], axis=0)
    bins = np.stack([np.searchsorted(cuts[:, k], features[:, k]) for k in range(features.shape[1])], axis=1)
    return labels, bins


def measure(name: str, files: dict[str, Path], engine: str, folder: Path, timeout_s: float) -> dict[str, Any]:
    home = folder / f"home-{name}-{engine}"
    labels, bins = floor_inputs(files["guest"], files["host"])
    # Timed before and after the job, the lower kept: what the cores give when nothing else runs.
    floor_before = crypto_floor(labels, bins, cores=2)
    settings = loopback_settings(home, upload_roots=(folder, EXAMPLES / "data"))
    stack = Stack(settings)
    stack.up(timeout_s=120)
    try:
        with httpx.Client(
            base_url=settings.http_address, timeout=600, headers=local_credential(settings)
        ) as http:
            tables = {role: f"{name}_{role}" for role in files}
            for role, file in files.items():
                upload(http, file, tables[role])
            # bench/scale.py's upload puts tables in namespace "scale", where the job reads them.
            dsl, conf = job(tables["guest"], tables["host"], engine)
            job_id = run_job(http, dsl, conf, timeout_s)
            seconds = task_seconds(http, job_id)
    finally:
        stack.down()
    floor = min(floor_before, crypto_floor(labels, bins, cores=2))
    return {
        "data": name,
        "rows": len(labels),
        "engine": engine,
        "binning_s": seconds["binning_0"],
        "selection_s": seconds["selection_0"],
        "floor_s": floor,
        "crypto_share": floor / seconds["binning_0"],
        "ratio": seconds["binning_0"] / floor,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic rows (0: credit only)")
    parser.add_argument("--engines", default="local,spark", help="comma-separated: local, spark")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds per job")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    results = []
    with tempfile.TemporaryDirectory(prefix="accord-feature-") as temporary:
        folder = Path(temporary)
        data = {
            "credit": {
                "guest": EXAMPLES / "data" / "default_credit_hetero_guest.csv",
                "host": EXAMPLES / "data" / "default_credit_hetero_host.csv",
            }
        }
        if args.rows:
            data[f"synthetic{args.rows}"] = write_tables(folder, args.rows)
        for engine in args.engines.split(","):
            for name, files in data.items():
                results.append(measure(name, files, engine, folder, args.timeout))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'data':<18} {'rows':>8} {'engine':<6} {'binning':>8} {'select':>7} {'floor':>7} {'ratio':>6}")
    for row in results:
        print(
            f"{row['data']:<18} {row['rows']:>8} {row['engine']:<6} {row['binning_s']:>8.2f} "
            f"{row['selection_s']:>7.2f} {row['floor_s']:>7.2f} {row['ratio']:>6.2f}"
        )
    print("target: binning within 1.5x of the crypto floor")


if __name__ == "__main__":
    main()
