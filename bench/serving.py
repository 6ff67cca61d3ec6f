"""Online federated inference for FATE's breast HeteroLR model, over the Inference gRPC endpoint.

Starts a real standalone site (Temporal dev server, server and worker processes) in a temporary home,
trains FATE's ``hetero_lr_normal``, publishes the model with ``/v1/model/load`` and binds it to a
service id, then measures single-row requests, each answered by the guest after asking the host for
its partial score over the federation:
- ``sequential_*``: one request at a time, latency p50/p99 and requests/s;
- ``paced_*``: requests sent at a steady ``--rate`` per second whatever the answers do (as clients
  arrive), latency p50/p99 and the rate achieved: the target is p99 under 20 ms at 300 requests/s;
- ``concurrent_*``: ``--concurrency`` requests always in flight, the most requests/s and their latency;
- ``batch_rows_per_s``: every row of the table in one BatchPredict;
- ``sbt_*``: the same sequential and batch figures for a HeteroSecureBoost model of breast (FATE's
  ``test_secureboost_train_binary`` job with 20 trees of depth 5), the guest walking the trees with the
  host's decisions at its own nodes: the target is p99 under 20 ms for one row.
- ``nn_*``: the same for a HeteroNN model of breast (bench/nn.py's network: bottom models of 4 outputs,
  an interactive layer of 4 under 1024-bit Paillier, a sigmoid top; 3 epochs): the host answers
  ``[[z_h]]`` it sealed at load, the guest decrypts 4 values per row; ``nn_load_s`` is ``/v1/model/load``
  (the guest's key, the host's bottom model and 569 x 4 homomorphic products and re-randomizations).

Figures depend on what else the machine is doing; measure on a quiet machine.

Run: ``.venv/bin/python bench/serving.py [--requests 2000] [--rate 300] [--concurrency 16] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accord.serving import InferenceClient  # noqa: E402
from bench.hetero_lr import EXAMPLES, breast, call, example_site, submit  # noqa: E402
from bench.nn import hetero_job  # noqa: E402
from bench.secureboost import COMPONENT as SBT_COMPONENT  # noqa: E402
from bench.secureboost import SBT  # noqa: E402

SERVICE_ID = "breast"
SBT_SERVICE_ID = "breast_sbt"
SBT_TREES, SBT_DEPTH = 20, 5
NN_SERVICE_ID, NN_EPOCHS = "breast_nn", 3
Row = tuple[str, dict[str, float]]


def guest_rows() -> list[Row]:
    with (EXAMPLES / "data" / "breast_hetero_guest.csv").open(newline="") as handle:
        return [
            (row["id"], {name: float(value) for name, value in row.items() if name not in ("id", "y")})
            for row in csv.DictReader(handle)
        ]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def timed(client: InferenceClient, row: Row, service_id: str = SERVICE_ID) -> float:
    started = time.perf_counter()
    await client.predict(row[0], row[1], service_id=service_id)
    return time.perf_counter() - started


async def sequential(
    client: InferenceClient, rows: list[Row], count: int, service_id: str = SERVICE_ID
) -> dict[str, float]:
    started = time.perf_counter()
    latencies = [await timed(client, rows[i % len(rows)], service_id) for i in range(count)]
    wall = time.perf_counter() - started
    return {
        "sequential_p50_ms": 1000 * statistics.median(latencies),
        "sequential_p99_ms": 1000 * percentile(latencies, 0.99),
        "sequential_rps": count / wall,
    }


async def concurrent(client: InferenceClient, rows: list[Row], count: int, width: int) -> dict[str, float]:
    latencies: list[float] = []
    cursor = iter(range(count))

    async def lane() -> None:
        for i in cursor:
            latencies.append(await timed(client, rows[i % len(rows)]))

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(width)))
    wall = time.perf_counter() - started
    return {
        "concurrent_rps": count / wall,
        "concurrent_p50_ms": 1000 * statistics.median(latencies),
        "concurrent_p99_ms": 1000 * percentile(latencies, 0.99),
    }


async def paced(client: InferenceClient, rows: list[Row], count: int, rate: float) -> dict[str, float]:
    started = time.perf_counter()
    pending = []
    for i in range(count):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(timed(client, rows[i % len(rows)])))
    latencies = list(await asyncio.gather(*pending))
    wall = time.perf_counter() - started
    return {
        "paced_rps": count / wall,
        "paced_p50_ms": 1000 * statistics.median(latencies),
        "paced_p99_ms": 1000 * percentile(latencies, 0.99),
    }


async def measure(address: str, requests: int, rate: float, width: int) -> dict[str, float]:
    rows = guest_rows()
    client = InferenceClient(address)
    try:
        await sequential(client, rows, min(200, requests))  # warm-up: channels, caches
        figures = await sequential(client, rows, requests)
        figures.update(await paced(client, rows, requests, rate))
        figures.update(await concurrent(client, rows, requests, width))
        started = time.perf_counter()
        await client.batch_predict(rows, service_id=SERVICE_ID)
        figures["batch_rows_per_s"] = len(rows) / (time.perf_counter() - started)
        figures.update(await one_row_and_batch(client, rows, requests, SBT_SERVICE_ID, "sbt"))
        figures.update(await one_row_and_batch(client, rows, requests, NN_SERVICE_ID, "nn"))
    finally:
        await client.close()
    return figures


async def one_row_and_batch(
    client: InferenceClient, rows: list[Row], requests: int, service_id: str, prefix: str
) -> dict[str, float]:
    """Sequential one-row figures (after a warm-up) and one batch of every row, for another model."""
    await sequential(client, rows, min(200, requests), service_id)
    figures = await sequential(client, rows, requests, service_id)
    started = time.perf_counter()
    await client.batch_predict(rows, service_id=service_id)
    figures["batch_rows_per_s"] = len(rows) / (time.perf_counter() - started)
    return {f"{prefix}_{key}": value for key, value in figures.items()}


def train_sbt(http: httpx.Client) -> str:
    """FATE's breast SecureBoost job with the issue's serving model: 20 trees of depth 5."""
    dsl = json.loads((SBT / "test_secureboost_train_dsl.json").read_text())
    conf = json.loads((SBT / "test_secureboost_train_binary_conf.json").read_text())
    params = conf["component_parameters"]["common"][SBT_COMPONENT]
    params.update(num_trees=SBT_TREES, tree_param={"max_depth": SBT_DEPTH})
    params.pop("validation_freqs", None)
    job_id, _ = submit(http, dsl, conf)
    return job_id


def train_nn(http: httpx.Client) -> dict[str, str]:
    """bench/nn.py's HeteroNN network on breast; the model's id and version."""
    dsl, conf = hetero_job(NN_EPOCHS, ("breast_hetero_guest", "breast_hetero_host"), (10, 20))
    job_id, _ = submit(http, dsl, conf)
    model_id = call(http, "/v1/job/query", {"job_id": job_id})["data"][0]["f_model_id"]
    return {"model_id": model_id, "model_version": job_id}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=300.0, help="requests/s of the paced run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with example_site("breast_hetero_guest", "breast_hetero_host") as (http, settings):
        job_id, _ = breast(http, 10)
        model_id = call(http, "/v1/job/query", {"job_id": job_id})["data"][0]["f_model_id"]
        model = {"model_id": model_id, "model_version": job_id}
        call(http, "/v1/model/load", model)
        call(http, "/v1/model/bind", {"service_id": SERVICE_ID, **model})
        sbt = {"model_id": "", "model_version": train_sbt(http)}
        sbt["model_id"] = call(http, "/v1/job/query", {"job_id": sbt["model_version"]})["data"][0][
            "f_model_id"
        ]
        call(http, "/v1/model/load", sbt)
        call(http, "/v1/model/bind", {"service_id": SBT_SERVICE_ID, **sbt})
        network = train_nn(http)
        started = time.perf_counter()
        call(http, "/v1/model/load", network)
        nn_load_s = time.perf_counter() - started
        call(http, "/v1/model/bind", {"service_id": NN_SERVICE_ID, **network})
        address = f"{settings.serving_host}:{settings.serving_port}"
        figures = asyncio.run(measure(address, args.requests, args.rate, args.concurrency))
        figures["nn_load_s"] = nn_load_s
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    targets = {
        "paced_p99_ms": "< 20",
        "paced_rps": f"(offered {args.rate:g})",
        "concurrent_rps": ">= 300",
        "sbt_sequential_p99_ms": "< 20",
        "nn_sequential_p99_ms": "< 20",
    }
    print(f"{'metric':<24} {'value':>10}   target")
    for key, value in figures.items():
        print(f"{key:<24} {value:>10.2f}   {targets.get(key, '')}")


if __name__ == "__main__":
    main()
