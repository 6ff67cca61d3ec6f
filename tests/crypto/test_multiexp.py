"""The multi-exponentiation kernels against plain modular exponentiation."""

from __future__ import annotations

import numpy as np
import pytest

from accord.crypto import multiexp
from accord.crypto.paillier import encrypt_integers
from accord.errors import ArgumentError
from tests.crypto.conftest import KeyPair


def _reference(ciphertexts: list[int], exponents: np.ndarray, nsquare: int) -> list[int]:
    """Python's own pow, one entry at a time (negative powers through the modular inverse)."""
    products = []
    for j in range(exponents.shape[1]):
        product = 1
        for c, e in zip(ciphertexts, exponents[:, j].tolist(), strict=True):
            product = product * pow(int(c), int(e), nsquare) % nsquare
        products.append(product)
    return products


@pytest.mark.parametrize(
    ("rows", "columns", "bits", "signed"),
    [(1, 1, 5, False), (9, 4, 20, True), (40, 12, 36, True), (150, 2, 45, True), (33, 3, 60, False)],
)
def test_both_algorithms_match_plain_exponentiation(
    keys_512: KeyPair, rng: np.random.Generator, rows: int, columns: int, bits: int, signed: bool
) -> None:
    public_key, _ = keys_512
    nsquare = int(public_key.nsquare)
    ciphertexts = encrypt_integers(public_key, rng.integers(-1000, 1000, size=rows).tolist())
    low = -(1 << bits) if signed else 0
    exponents = rng.integers(low, 1 << bits, size=(rows, columns), dtype=np.int64)
    exponents[rng.random(size=exponents.shape) < 0.2] = 0
    expected = _reference(ciphertexts, exponents, nsquare)
    assert multiexp.column_products(ciphertexts, exponents, nsquare) == expected
    assert multiexp.naive_column_products(ciphertexts, exponents, nsquare) == expected
    # Each algorithm on its own, on the shifted (non-negative) matrix.
    shifted = (exponents - np.minimum(exponents.min(axis=0), 0)).astype(np.uint64)
    column_bits = [int(v).bit_length() for v in shifted.max(axis=0).tolist()]
    unshifted = _reference(ciphertexts, shifted.astype(np.int64), nsquare)
    for group in (1, 3, multiexp.best_subset_group(rows, column_bits)):
        assert multiexp._subset_products(ciphertexts, shifted, column_bits, group, nsquare) == unshifted
    for j, b in enumerate(column_bits):
        for window in (1, 4, multiexp.best_bucket_window(rows, b)):
            assert multiexp._bucket_product(ciphertexts, shifted[:, j], b, window, nsquare) == unshifted[j]


def test_degenerate_shapes(keys_512: KeyPair) -> None:
    public_key, _ = keys_512
    nsquare = int(public_key.nsquare)
    ciphertexts = encrypt_integers(public_key, [1, 2, 3])
    assert multiexp.column_products([], np.zeros((0, 3), dtype=np.int64), nsquare) == [1, 1, 1]
    assert multiexp.column_products(ciphertexts, np.zeros((3, 0), dtype=np.int64), nsquare) == []
    assert multiexp.column_products(ciphertexts, np.zeros((3, 2), dtype=np.int64), nsquare) == [1, 1]
    with pytest.raises(ArgumentError, match="3 ciphertexts"):
        multiexp.column_products(ciphertexts, np.zeros((2, 2), dtype=np.int64), nsquare)


def test_cost_model_prefers_subsets_for_wide_batches_and_buckets_for_tall_ones() -> None:
    wide = [40] * 30
    tall = [40] * 2
    wide_group = multiexp.best_subset_group(320, wide)
    wide_subset = multiexp.subset_cost(320, wide, wide_group) * multiexp.SUBSET_PENALTY
    wide_bucket = sum(multiexp.bucket_cost(320, b, multiexp.best_bucket_window(320, b)) for b in wide)
    tall_subset = multiexp.subset_cost(30000, tall, multiexp.best_subset_group(30000, tall))
    tall_bucket = sum(multiexp.bucket_cost(30000, b, multiexp.best_bucket_window(30000, b)) for b in tall)
    assert wide_subset < wide_bucket
    assert tall_bucket < tall_subset
    assert multiexp.estimated_multiplications(320, wide) == min(wide_subset, wide_bucket)
