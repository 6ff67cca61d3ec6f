"""Encrypted histograms: the sparse-point sums decrypt to the dense sums and to numpy's, in-process
and over the pool, and add far fewer ciphertexts on a mostly-zero table."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from accord.crypto import batch, counting, histogram, pool, set_parallelism
from tests.crypto.conftest import KeyPair


def _numpy_histogram(values: np.ndarray, groups: np.ndarray, group_count: int) -> np.ndarray:
    """(features, groups, width) sums of each row's ``values`` (rows, width) by its group per feature."""
    features = groups.shape[1]
    sums = np.zeros((features, group_count, values.shape[1]), dtype=np.int64)
    for feature in range(features):
        np.add.at(sums[feature], groups[:, feature], values)
    return sums


@pytest.mark.parametrize("workers", [1, 2])
def test_sparse_sums_equal_dense_sums_and_numpy(keys_512: KeyPair, workers: int) -> None:
    public_key, private_key = keys_512
    rng = np.random.default_rng(11)
    rows, features, group_count, width = 1000, 30, 9, 2
    sparse_groups = rng.integers(0, group_count, size=features)
    groups = rng.integers(0, group_count, size=(rows, features))
    # 80 % of every column at its sparse group; one column there on every row, one on none.
    at_sparse = rng.random((rows, features)) < 0.8
    at_sparse[:, 0], at_sparse[:, 1] = True, False
    groups[at_sparse] = np.broadcast_to(sparse_groups, (rows, features))[at_sparse]
    groups[:, 1] = np.where(
        groups[:, 1] == sparse_groups[1], (sparse_groups[1] + 1) % group_count, groups[:, 1]
    )
    # Big enough that the sparse sums, too, are split over the pool when it is on.
    assert (np.count_nonzero(groups != sparse_groups) + rows) * width >= pool.MIN_PARALLEL_WORK
    values = rng.integers(0, 2**20, size=(rows, width))
    set_parallelism(workers)
    ciphertexts = batch.encrypt(public_key, [int(v) for v in values.reshape(-1)])
    dense = histogram.grouped_sums(public_key, ciphertexts, width, groups, group_count)
    sparse = histogram.grouped_sums_sparse(public_key, ciphertexts, width, groups, group_count, sparse_groups)
    set_parallelism(1)
    expected = _numpy_histogram(values, groups, group_count).reshape(-1)
    assert batch.decrypt(private_key, dense) == expected.tolist()
    assert batch.decrypt(private_key, sparse) == expected.tolist()


def test_sparse_sums_add_only_rows_away_from_the_sparse_group(keys_512: KeyPair) -> None:
    public_key, _ = keys_512
    rng = np.random.default_rng(12)
    rows, features, group_count = 300, 40, 8
    groups = np.where(
        rng.random((rows, features)) < 0.9, 3, rng.integers(0, group_count, size=(rows, features))
    )
    ciphertexts = batch.encrypt(public_key, [int(v) for v in rng.integers(0, 2**20, size=rows)])
    added: Counter[str] = Counter()
    counting.set_sink(lambda operation, elements: added.update({operation: elements}))
    try:
        histogram.grouped_sums(public_key, ciphertexts, 1, groups, group_count)
        dense_adds = added.pop(counting.ADD)
        histogram.grouped_sums_sparse(public_key, ciphertexts, 1, groups, group_count, np.full(features, 3))
        sparse_adds = added.pop(counting.ADD)
    finally:
        counting.set_sink(None)
    assert dense_adds == rows * features
    away = int(np.count_nonzero(groups != 3))
    # One addition per row away from 3, one per row into the total, and per feature the product of
    # its other groups and the subtraction from the total.
    assert away + rows < sparse_adds <= away + rows + features * group_count
    assert sparse_adds < dense_adds / 4
