"""The process pool: same results as in-process, lean workers, settings."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from pydantic import ValidationError

from accord.crypto import EncryptedVector, parallelism, pool, set_parallelism, shutdown_pool, tasks
from accord.errors import ArgumentError
from accord.settings import Settings
from tests.crypto.conftest import KeyPair


def test_pool_on_and_off_give_identical_results(keys_1024: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_1024
    d = rng.normal(size=400)
    matrix = rng.normal(size=(400, 6))
    # 400 elements put encryption, decryption, scaling, dot and refreshing above the pool threshold.
    results: dict[int, list[np.ndarray]] = {}
    for workers in (1, 2):
        set_parallelism(workers)
        encrypted = public_key.encrypt(d)
        negated = -encrypted
        scaled = encrypted * 0.3
        product = encrypted.dot(matrix)
        refreshed = encrypted.rerandomized()
        elementwise = encrypted.multiply(matrix[:, 0])
        results[workers] = [
            private_key.decrypt(v) for v in (encrypted, negated, scaled, product, refreshed, elementwise)
        ]
    assert pool._executor is not None, "the batches above should have started the pool"
    shutdown_pool()
    for serial, parallel in zip(results[1], results[2], strict=True):
        np.testing.assert_array_equal(serial, parallel)
    np.testing.assert_array_equal(results[2][0], d)
    scale = np.abs(matrix).T @ np.abs(d)
    assert np.all(np.abs(results[2][3] - matrix.T @ d) <= 1e-8 * scale)
    np.testing.assert_allclose(results[2][5], d * matrix[:, 0], rtol=1e-9, atol=1e-12)


def test_pooled_ciphertexts_decrypt_in_process(keys_1024: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_1024
    values = rng.normal(size=300)
    set_parallelism(2)
    encrypted = public_key.encrypt(values)
    wire = encrypted.to_bytes()
    set_parallelism(1)
    np.testing.assert_array_equal(private_key.decrypt(EncryptedVector.from_bytes(wire, public_key)), values)


def test_workers_import_only_the_crypto_package() -> None:
    set_parallelism(2)
    names = pool.worker_module_names()
    ours = {name for name in names if name == "accord" or name.startswith("accord.")}
    assert ours <= {"accord", "accord.errors"} | {n for n in ours if n.startswith("accord.crypto")}
    assert "accord.crypto.vector" in ours
    # The parent here is pytest: 'spawn' would normally re-import its main script in every worker.
    assert not {"pytest", "_pytest", "tests", "hypothesis", "temporalio"} & set(names)


def test_a_killed_worker_falls_back_to_in_process(keys_1024: KeyPair, rng: np.random.Generator) -> None:
    public_key, private_key = keys_1024
    values = rng.normal(size=300)
    set_parallelism(2)
    worker = pool.run_parallel(tasks.process_id_task, [()])[0]
    assert worker != os.getpid()
    os.kill(worker, signal.SIGKILL)
    # The batch in flight (or the next one) meets the broken pool and is computed here instead.
    for _ in range(2):
        np.testing.assert_array_equal(private_key.decrypt(public_key.encrypt(values)), values)
    # A new pool serves the batches after that.
    assert pool.run_parallel(tasks.process_id_task, [()])[0] not in (worker, os.getpid())


def test_parallelism_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    set_parallelism(3)
    assert parallelism() == 3
    set_parallelism(1)
    assert parallelism() == 1
    assert not pool.worth_parallel(10**9)
    set_parallelism(None)
    assert parallelism() == (os.cpu_count() or 1)
    # The worker takes it from its Settings (ACCORD_CRYPTO_WORKERS), checked there.
    assert Settings.from_env({"ACCORD_CRYPTO_WORKERS": "3"}).crypto_workers == 3
    assert Settings.from_env({}).crypto_workers is None
    with pytest.raises(ValidationError, match="crypto_workers"):
        Settings.from_env({"ACCORD_CRYPTO_WORKERS": "0"})
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ArgumentError):
            set_parallelism(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("count", "parts"), [(10, 3), (2, 5), (0, 2), (7, 1), (100, 7)])
def test_chunk_bounds_cover_the_range(count: int, parts: int) -> None:
    bounds = pool.chunk_bounds(count, parts)
    covered = [i for start, stop in bounds for i in range(start, stop)]
    assert covered == list(range(count))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1
