"""Scale: upload, intersection and HeteroLR epochs on 100k and 1M synthetic rows, per computing engine.

Seeded synthetic hetero tables (guest: id, label, 10 features; host: id, 30 features; 90 % of the ids on
both sides) are written as CSV under a temporary home that the site lists in ``upload_roots``, then a
real standalone site (Temporal dev server, server, worker) uploads them, runs a raw-hash intersection
and HeteroLR with 3 full-batch epochs under 1024-bit Paillier, on the local engine or on Spark
``local[2]`` (``backend: 1``). Reported per (rows, engine):

- ``upload_rows_per_s``: both tables' rows over the two uploads' seconds;
- ``intersect_s``: the Intersection task's seconds on the guest;
- ``epoch_s``: the HeteroLR task's seconds on the guest over its epochs (key generation and set-up
  count against it);
- ``floor_s``: the crypto floor of one epoch, measured in this process on the same cores (before and
  after the job, the lower kept): ``n``
  encryptions (the host's forward), ``n x 40`` multi-exponentiation terms (both parties' gradients) and
  the gradient decryptions, with the project's own kernels;
- ``peak_rss_mb``: the largest peak resident set (VmHWM) of any process of the site, and per process
  kind in ``peak_rss_by_process_mb`` (sampled from /proc while the job runs).

The cost exponent (``log(t_1M / t_100k) / log 10``) of the epoch is printed when both sizes ran.

Run: ``.venv/bin/python bench/scale.py [--rows 100000,1000000] [--engines local,spark] [--json]``.
Figures depend on what else the machine is doing; measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.components.hetero_lr.params import HeteroLRParam  # noqa: E402
from accord.crypto import generate_keypair, set_parallelism, start_pool  # noqa: E402
from accord.standalone.stack import Stack  # noqa: E402
from bench.hetero_lr import call, task_seconds  # noqa: E402
from tests.support import local_credential, loopback_settings  # noqa: E402

GUEST, HOST = 9999, 10000
GUEST_FEATURES, HOST_FEATURES = 10, 30
OVERLAP = 0.9
EPOCHS = 3
KEY_LENGTH = 1024
SPARK_RUN = {
    "num-executors": 1,
    "executor-cores": 2,
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
}


def write_tables(folder: Path, rows: int, seed: int = 7) -> dict[str, Path]:
    """The guest's and host's CSV files: ``rows`` ids each, ``OVERLAP`` of them shared."""
    rng = np.random.default_rng(seed)
    shared = int(rows * OVERLAP)
    guest_ids = np.arange(rows, dtype=np.int64)
    # The host's ids: the first ``shared`` guest ids, then ids the guest does not have.
    host_ids = np.concatenate([guest_ids[:shared], np.arange(rows, 2 * rows - shared, dtype=np.int64)])
    weights = rng.normal(size=GUEST_FEATURES + HOST_FEATURES)
    guest_x = rng.normal(size=(rows, GUEST_FEATURES))
    host_x = rng.normal(size=(rows, HOST_FEATURES))
    # Labels depend on both parties' features of the shared ids, so the model has something to learn.
    host_part = np.zeros(rows)
    host_part[:shared] = host_x[:shared] @ weights[GUEST_FEATURES:]
    logits = guest_x @ weights[:GUEST_FEATURES] + host_part
    labels = (rng.random(rows) < 1 / (1 + np.exp(-logits))).astype(np.int64)
    files = {"guest": folder / f"scale_guest_{rows}.csv", "host": folder / f"scale_host_{rows}.csv"}
    guest = {"id": guest_ids, "y": labels} | {f"x{i}": guest_x[:, i].round(6) for i in range(GUEST_FEATURES)}
    host = {"id": host_ids} | {f"x{i}": host_x[:, i].round(6) for i in range(HOST_FEATURES)}
    # pyarrow quotes header names whatever the quoting style; FATE's files have a bare header line.
    options = pacsv.WriteOptions(quoting_style="none", include_header=False)
    for role, columns in (("guest", guest), ("host", host)):
        with files[role].open("wb") as out:
            out.write((",".join(columns) + "\n").encode())
            pacsv.write_csv(pa.table(columns), out, write_options=options)
    return files


def upload(http: httpx.Client, file: Path, name: str) -> float:
    started = time.perf_counter()
    conf = {"file": str(file), "table_name": name, "namespace": "scale", "head": 1, "partition": 4}
    call(http, "/v1/data/upload", conf | {"drop": 1, "use_local_data": 0})
    return time.perf_counter() - started


def job(rows: int, engine: str) -> tuple[dict[str, Any], dict[str, Any]]:
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
            "hetero_lr_0": {
                "module": "HeteroLR",
                "input": {"data": {"train_data": ["intersection_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }
    common: dict[str, Any] = {"task_cores": 2, "computing_partitions": 4}
    if engine == "spark":
        common.update(backend=1, spark_run=SPARK_RUN)
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST], "arbiter": [HOST]},
        "job_parameters": {"common": common},
        "component_parameters": {
            "common": {
                "intersection_0": {"intersect_method": "raw"},
                "hetero_lr_0": {
                    "max_iter": EPOCHS,
                    "batch_size": -1,
                    "early_stop": "weight_diff",
                    "tol": 0,
                    "encrypt_param": {"key_length": KEY_LENGTH},
                },
            },
            "role": {
                "guest": {
                    "0": {
                        "reader_0": {"table": {"name": f"scale_guest_{rows}", "namespace": "scale"}},
                        "data_transform_0": {"with_label": True},
                    }
                },
                "host": {
                    "0": {
                        "reader_0": {"table": {"name": f"scale_host_{rows}", "namespace": "scale"}},
                        "data_transform_0": {"with_label": False},
                    }
                },
            },
        },
    }
    return dsl, conf


def run_job(http: httpx.Client, dsl: dict[str, Any], conf: dict[str, Any], timeout_s: float) -> str:
    job_id = str(call(http, "/v1/job/submit", {"job_dsl": dsl, "job_runtime_conf": conf})["jobId"])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = call(http, "/v1/job/query", {"job_id": job_id})["data"]
        initiator = next(r for r in rows if r["f_is_initiator"])
        status = initiator["f_status"]
        if status == "success":
            return job_id
        if status in ("failed", "canceled", "timeout"):
            raise RuntimeError(f"job {job_id} ended {status}: {initiator['f_status_reason']}")
        time.sleep(0.5)
    raise RuntimeError(f"job {job_id} did not end within {timeout_s:g} s")


class PeakRss:
    """Samples VmHWM (the kernel's own peak RSS) of the site's processes and their children."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.peaks: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.sample()

    def sample(self) -> None:
        for pid in self._tree():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue  # it ended between the listing and the read
            kilobytes = next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0
            )
            kind = _kind([part.decode(errors="replace") for part in argv if part])
            self.peaks[pid] = (kind, max(kilobytes, self.peaks.get(pid, ("", 0))[1]))

    def _tree(self) -> set[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        found, todo = set(), list(self.roots)
        while todo:
            pid = todo.pop()
            if pid not in found:
                found.add(pid)
                todo.extend(children.get(pid, []))
        return found

    def by_kind_mb(self) -> dict[str, float]:
        peaks: dict[str, float] = {}
        for kind, kilobytes in self.peaks.values():
            peaks[kind] = max(peaks.get(kind, 0.0), kilobytes / 1024)
        return dict(sorted(peaks.items()))


def _kind(argv: list[str]) -> str:
    joined = " ".join(argv)
    if "org.apache.spark" in joined:
        return "spark-jvm"
    if "pyspark" in joined:
        return "spark-python"
    for name in ("server", "worker"):
        if f"accord {name}" in joined or f"-m accord {name}" in joined:
            return f"accord-{name}"
    if "temporal" in joined:
        return "temporal"
    return Path(argv[0]).name if argv else "?"


def crypto_floor(rows: int, cores: int) -> float:
    """One epoch's Paillier work with the project's kernels: n encryptions, n*F products, F decryptions."""
    set_parallelism(cores)
    start_pool()
    public_key, private_key = generate_keypair(KEY_LENGTH)
    rng = np.random.default_rng(3)
    forward = rng.normal(size=rows) * 0.25
    started = time.perf_counter()
    encrypted = public_key.encrypt(forward)
    # At the precision the job's HeteroLR uses (FATE's floating_point_precision default).
    precision = HeteroLRParam().dot_precision
    gradients = [
        encrypted.dot(rng.normal(size=(rows, width)), precision) for width in (GUEST_FEATURES, HOST_FEATURES)
    ]
    for gradient in gradients:
        private_key.decrypt(gradient)
    return time.perf_counter() - started


def measure(rows: int, engine: str, folder: Path, timeout_s: float) -> dict[str, Any]:
    home = folder / f"home-{rows}-{engine}"
    files = write_tables(folder, rows)
    # Timed before and after the job, the lower kept: what the cores give when nothing else runs.
    floor_before = crypto_floor(int(rows * OVERLAP), cores=2)
    settings = loopback_settings(home, upload_roots=(folder,))
    stack = Stack(settings)
    status = stack.up(timeout_s=120)
    roots = [p.state.pid for p in status.processes if p.state.pid is not None]
    try:
        with (
            httpx.Client(
                base_url=settings.http_address, timeout=600, headers=local_credential(settings)
            ) as http,
            PeakRss(roots) as rss,
        ):
            upload_s = upload(http, files["guest"], f"scale_guest_{rows}")
            upload_s += upload(http, files["host"], f"scale_host_{rows}")
            dsl, conf = job(rows, engine)
            job_id = run_job(http, dsl, conf, timeout_s)
            seconds = task_seconds(http, job_id)
    finally:
        stack.down()
    floor = min(floor_before, crypto_floor(int(rows * OVERLAP), cores=2))
    by_kind = rss.by_kind_mb()
    return {
        "rows": rows,
        "engine": engine,
        "upload_rows_per_s": 2 * rows / upload_s,
        "intersect_s": seconds["intersection_0"],
        "epoch_s": seconds["hetero_lr_0"] / EPOCHS,
        "floor_s": floor,
        "peak_rss_mb": max(by_kind.values()),
        "peak_rss_by_process_mb": by_kind,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated sizes")
    parser.add_argument("--engines", default="local,spark", help="comma-separated: local, spark")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds per job")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    results = []
    with tempfile.TemporaryDirectory(prefix="accord-scale-") as temporary:
        for engine in args.engines.split(","):
            for rows in (int(size) for size in args.rows.split(",")):
                results.append(measure(rows, engine, Path(temporary), args.timeout))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{'rows':>9} {'engine':<6} {'upload/s':>10} {'intersect':>9} {'epoch':>8} {'floor':>8} "
        f"{'ratio':>6} {'peak MB':>8}"
    )
    for row in results:
        print(
            f"{row['rows']:>9} {row['engine']:<6} {row['upload_rows_per_s']:>10.0f} "
            f"{row['intersect_s']:>9.2f} "
            f"{row['epoch_s']:>8.2f} {row['floor_s']:>8.2f} {row['epoch_s'] / row['floor_s']:>6.2f} "
            f"{row['peak_rss_mb']:>8.0f}"
        )
    for engine in args.engines.split(","):
        sizes = sorted((row["rows"], row["epoch_s"]) for row in results if row["engine"] == engine)
        if len(sizes) >= 2 and sizes[0][0] != sizes[-1][0]:
            exponent = math.log(sizes[-1][1] / sizes[0][1]) / math.log(sizes[-1][0] / sizes[0][0])
            print(f"{engine}: epoch cost grows as rows^{exponent:.2f} from {sizes[0][0]} to {sizes[-1][0]}")
    print("targets: epoch <= 1.3x floor (local), <= 2x (spark local[2]); peak RSS < 1.5 GB at 1M rows")


if __name__ == "__main__":
    main()
