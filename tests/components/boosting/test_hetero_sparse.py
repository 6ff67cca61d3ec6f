"""HeteroSecureBoost's sparse_optimization: the host's node histograms (each feature's bin of 0 derived
from the node's encrypted totals) decrypt to a plain numpy histogram of the g/h, on a synthetic table
with 85 % zeros and on FATE's NUS-WIDE host table (99 % zeros); trees and scores equal the dense path's.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.boosting.hetero import data
from accord.components.boosting.hetero.builder import decrypted_histogram
from accord.components.boosting.hetero.host import node_histogram
from accord.components.boosting.hetero.packing import Packing
from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.crypto import PrivateKey, PublicKey, batch, counting, generate_keypair

from ..breast import DATA
from .hetero_support import COMPONENT, GUEST, HOST, conf, train

# Fixed point with 32 significant bits: a sum of 1000 values is exact to about 1000 * 2^-31.
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def keys() -> tuple[PublicKey, PrivateKey]:
    return generate_keypair(1024)


def sparse_table(rng: np.random.Generator, rows: int, features: int, zeros: float) -> np.ndarray:
    values = rng.normal(size=(rows, features))
    values[rng.random((rows, features)) < zeros] = 0.0
    return values


def nus_wide_host(columns: int) -> np.ndarray:
    """The first ``columns`` features of FATE's NUS-WIDE host example (1000 rows, 99 % zeros)."""
    return np.loadtxt(DATA / "nus_wide_train_host.csv", delimiter=",", skiprows=1)[:, 1 : 1 + columns]


def _numpy_histogram(bins: np.ndarray, values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(features, bins, outputs) sums of ``values`` and (features, bins) row counts."""
    features = bins.shape[1]
    sums = np.zeros((features, width, values.shape[1]))
    counts = np.zeros((features, width), dtype=np.int64)
    for feature in range(features):
        np.add.at(sums[feature], bins[:, feature], values)
        np.add.at(counts[feature], bins[:, feature], 1)
    return sums, counts


@pytest.mark.parametrize(
    ("table", "outputs", "compress", "zero_as_missing"),
    [
        ("synthetic", 1, True, False),
        ("synthetic", 3, False, True),
        ("nus_wide", 1, True, False),
    ],
    ids=["synthetic", "multi-output-zero-missing", "nus-wide"],
)
def test_host_histograms_equal_numpy_of_the_gradients(
    keys: tuple[PublicKey, PrivateKey], table: str, outputs: int, compress: bool, zero_as_missing: bool
) -> None:
    public_key, private_key = keys
    rng = np.random.default_rng(3)
    values = sparse_table(rng, 500, 16, zeros=0.85) if table == "synthetic" else nus_wide_host(120)
    assert np.mean(values == 0) > 0.8
    rows = len(values)
    dataset = Dataset.instances(
        [str(i) for i in range(rows)], values, header=[f"x{i}" for i in range(values.shape[1])]
    )
    binned = data.quantile_bins(data.features_of(dataset, zero_as_missing), 32, 1e-4)
    g = rng.uniform(-1.0, 1.0, size=(rows, outputs))
    h = rng.uniform(0.0, 0.25, size=(rows, outputs))
    both = np.hstack([g, h])
    packing = Packing.plan(both, public_key.key_length, compress)
    ciphertexts = batch.encrypt(public_key, packing.encode(both))
    # A node below the root: about 60 % of the rows.
    node = np.flatnonzero(rng.random(rows) < 0.6)
    node_cts = [c for r in node.tolist() for c in ciphertexts[r * packing.width : (r + 1) * packing.width]]
    node_bins = binned.bins[node]
    expected, expected_counts = _numpy_histogram(node_bins, both[node], binned.width)

    added: Counter[str] = Counter()
    counting.set_sink(lambda operation, elements: added.update({operation: elements}))
    try:
        decrypted = {}
        for name, zero_bins in (("dense", None), ("sparse", binned.zero_bins(zero_as_missing))):
            sent = node_histogram(public_key, packing, node_cts, node_bins, binned.width, zero_bins)
            decrypted[name] = decrypted_histogram(private_key, sent, packing, outputs)
            added[name] = added.pop(counting.ADD)
    finally:
        counting.set_sink(None)
    for g_sums, h_sums, counts in decrypted.values():
        np.testing.assert_array_equal(counts, expected_counts)
        np.testing.assert_allclose(g_sums, expected[..., :outputs], rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(h_sums, expected[..., outputs:], rtol=0, atol=TOLERANCE)
    # Same plaintexts, so the same decoded sums to the last bit.
    for dense_part, sparse_part in zip(decrypted["dense"], decrypted["sparse"], strict=True):
        np.testing.assert_array_equal(dense_part, sparse_part)
    assert added["sparse"] < added["dense"] / 3, added


def sparse_parties(classes: int, rows: int = 240) -> tuple[Dataset, Dataset]:
    """A guest with 3 features and labels that depend mostly on a host table with 85 % zeros."""
    rng = np.random.default_rng(21)
    host_values = sparse_table(rng, rows, 24, zeros=0.85)
    guest_values = rng.normal(size=(rows, 3))
    signal = host_values[:, :6].sum(axis=1) + 0.3 * guest_values[:, 0]
    labels = np.digitize(signal, np.quantile(signal, np.linspace(0, 1, classes + 1)[1:-1])).astype(float)
    ids = [str(i) for i in range(rows)]
    guest = Dataset.instances(ids, guest_values, header=["g0", "g1", "g2"], labels=labels, label_name="y")
    host = Dataset.instances(ids, host_values, header=[f"h{i}" for i in range(24)])
    return guest, host


@pytest.mark.parametrize(
    ("classes", "options"),
    [
        (2, {"use_missing": True, "zero_as_missing": True}),
        (3, {"multi_mode": "multi_output"}),
        (2, {"boosting_strategy": "mix", "tree_num_per_party": 1, "complete_secure": 1}),
    ],
    ids=["zero-as-missing", "multi-output", "mix-complete-secure"],
)
def test_sparse_optimization_trains_the_same_trees(
    tmp_path: Path, local_engine: Engine, classes: int, options: dict[str, Any]
) -> None:
    guest, host = sparse_parties(classes)
    outputs = {}
    for sparse in (False, True):
        job = conf(num_trees=3, sparse_optimization=sparse, **options)
        harness = train(tmp_path / str(sparse), job, guest, [host], local_engine)
        try:
            out = harness.output("guest", GUEST, COMPONENT)
            outputs[sparse] = (
                out.column("predict_score"),
                harness.model("guest", GUEST, COMPONENT)["param"]["trees"],
                harness.model("host", HOST, COMPONENT)["param"]["trees"],
            )
        finally:
            harness.close()
    np.testing.assert_allclose(outputs[True][0], outputs[False][0], rtol=0, atol=1e-9)
    assert outputs[True][1:] == outputs[False][1:]
    # The host's features won splits, so its (sparse) histograms decided the trees.
    assert any(node["party"].startswith("host") for tree in outputs[True][1] for node in tree["nodes"])
