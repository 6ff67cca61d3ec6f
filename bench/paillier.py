"""Paillier speed: key generation, encryption, decryption and ``X^T·[[d]]`` at 1024 and 2048 bits.

``dot`` is timed three ways: the multi-exponentiation in-process, one modular exponentiation per
entry (the baseline; on the 30000-row matrix it runs on the first rows and is scaled up), and the
multi-exponentiation spread over the process pool. The last block replays the cryptographic work of
FATE's hetero-LR example on the breast data (569 rows, guest 10 and host 20 features, batch 320,
30 iterations): encrypt the host's ``wx``, form ``[[d]]`` on the guest, ``X^T·[[d]]`` on both
sides, decrypt the 30 masked gradient entries on the arbiter.

Run: ``.venv/bin/python bench/paillier.py [--json] [--key-lengths 1024 2048] [--iterations 30]``.
Timings are wall-clock on whatever else the machine is running; the pool only helps when there are
idle cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accord.crypto import EncryptedVector, PublicKey, generate_keypair, set_parallelism, start_pool
from accord.crypto.fixedpoint import column_encoding
from accord.crypto.multiexp import naive_column_products

DATA = Path(__file__).resolve().parents[2] / "shared/fate/examples/data"
NAIVE_ROWS_CAP = 1500
ENCRYPT_COUNT = 1000
DECRYPT_COUNT = 300


def _features(name: str, skip: int, rows: int, columns: int, seed: int) -> np.ndarray:
    """Feature columns of a FATE example table, or random standardized features if it is absent."""
    path = DATA / f"{name}.csv"
    if path.exists():
        table = np.genfromtxt(path, delimiter=",", skip_header=1)
        return np.ascontiguousarray(table[:rows, skip : skip + columns])
    return np.random.default_rng(seed).normal(size=(rows, columns))


def _seconds(action: Callable[[], object], repeat: int = 1) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _with_workers(workers: int, action: Callable[[], object], repeat: int = 1) -> float:
    set_parallelism(workers)
    if workers > 1:
        start_pool()
        action()  # workers build their obfuscator tables and import everything once
    try:
        return _seconds(action, repeat)
    finally:
        set_parallelism(1)


def _naive_dot_seconds(public_key: PublicKey, encrypted: EncryptedVector, matrix: np.ndarray) -> float:
    rows = min(len(encrypted), NAIVE_ROWS_CAP)
    exponents, _ = column_encoding(matrix[:rows])
    ciphertexts = encrypted.ciphertexts[:rows]
    elapsed = _seconds(lambda: naive_column_products(ciphertexts, exponents, public_key.nsquare))
    return elapsed * len(encrypted) / rows


def measure(key_length: int, workers: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    figures["keygen_s"] = _seconds(lambda: generate_keypair(key_length), repeat=3)
    public_key, private_key = generate_keypair(key_length)
    rng = np.random.default_rng(key_length)
    values = rng.normal(size=ENCRYPT_COUNT)
    set_parallelism(1)
    public_key.encrypt(values[:1])  # builds this process's fixed-base table
    figures["encrypt_per_s"] = ENCRYPT_COUNT / _seconds(lambda: public_key.encrypt(values))
    figures["encrypt_per_s_pool"] = ENCRYPT_COUNT / _with_workers(workers, lambda: public_key.encrypt(values))
    encrypted = public_key.encrypt(values[:DECRYPT_COUNT])
    figures["decrypt_per_s"] = DECRYPT_COUNT / _seconds(lambda: private_key.decrypt(encrypted))
    figures["decrypt_per_s_pool"] = DECRYPT_COUNT / _with_workers(
        workers, lambda: private_key.decrypt(encrypted)
    )
    for label, matrix in (
        ("569x20", _features("breast_hetero_host", 1, 569, 20, seed=1)),
        ("30000x10", _features("default_credit_hetero_host", 1, 30000, 10, seed=2)),
    ):
        d = public_key.encrypt(np.asarray(rng.normal(size=len(matrix))) * 0.25)

        def dot(d: EncryptedVector = d, matrix: np.ndarray = matrix) -> object:
            return d.dot(matrix)

        multiexp_s = _seconds(dot)
        naive_s = _naive_dot_seconds(public_key, d, matrix)
        figures[f"dot_{label}_multiexp_s"] = multiexp_s
        figures[f"dot_{label}_naive_s"] = naive_s
        figures[f"dot_{label}_speedup"] = naive_s / multiexp_s
        figures[f"dot_{label}_pool_s"] = _with_workers(workers, dot)
    return figures


def breast_job(iterations: int, workers: int) -> dict[str, float]:
    """Seconds of crypto in the hetero-LR breast example, in-process and with the pool."""
    guest = _features("breast_hetero_guest", 2, 569, 10, seed=3)
    host = _features("breast_hetero_host", 1, 569, 20, seed=4)
    labels = (np.random.default_rng(5).random(569) > 0.4).astype(np.float64)
    public_key, private_key = generate_keypair(1024)
    rng = np.random.default_rng(6)
    weights_guest, weights_host = rng.normal(size=10) * 0.1, rng.normal(size=20) * 0.1

    def run() -> None:
        for _ in range(iterations):
            for start in range(0, 569, 320):
                rows = slice(start, min(start + 320, 569))
                # host -> guest: [[wx_h]]
                wire = public_key.encrypt(host[rows] @ weights_host).to_bytes()
                forward = EncryptedVector.from_bytes(wire, public_key)
                # guest: [[d]] = 0.25·[[wx_h]] + 0.25·wx_g - 0.5·y, sent to the host too
                plain = 0.25 * (guest[rows] @ weights_guest) - 0.5 * labels[rows]
                residual = EncryptedVector.from_bytes((forward * 0.25 + plain).to_bytes(), public_key)
                gradients = [residual.dot(guest[rows]), residual.dot(host[rows])]
                # both mask their gradient; the arbiter decrypts all 30 entries
                masked = EncryptedVector.concatenate(
                    [g + rng.normal(size=len(g)) for g in gradients]
                ).to_bytes()
                private_key.decrypt(EncryptedVector.from_bytes(masked, public_key))

    set_parallelism(1)
    public_key.encrypt(np.zeros(1))
    return {
        "breast_lr_crypto_s": _seconds(run),
        "breast_lr_crypto_s_pool": _with_workers(workers, run),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--key-lengths", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--iterations", type=int, default=30, help="hetero-LR iterations to replay")
    parser.add_argument("--workers", type=int, default=2, help="pool size for the *_pool figures")
    args = parser.parse_args()
    by_key = {length: measure(length, args.workers) for length in args.key_lengths}
    job = breast_job(args.iterations, args.workers)
    if args.json:
        print(json.dumps({"by_key_length": by_key, "breast_lr_1024": job}, indent=2))
        return
    lengths = list(by_key)
    print(f"{'metric':<28}" + "".join(f"{length:>14}" for length in lengths))
    for metric in by_key[lengths[0]]:
        print(f"{metric:<28}" + "".join(f"{by_key[length][metric]:>14.3f}" for length in lengths))
    print()
    print(f"hetero-LR breast, {args.iterations} iterations, 1024-bit key:")
    for metric, value in job.items():
        print(f"{metric:<28}{value:>14.3f}")


if __name__ == "__main__":
    main()
