"""HeteroSSHELinR against plain numpy least-squares gradient descent (reference.py) on FATE's student
data (standardized, as a FeatureScale upstream would), and what the host sees of the guest's weights.

Tolerance: weights within 1e-4 and losses within 1e-6 (fixed-point rounding only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from accord.components.sdk import Dataset
from accord.components.sshe import shares

from ..harness import ComponentHarness
from ..linear.regression_data import instances, joined, standardized
from . import reference
from .test_sshe_lr import GUEST, HOST, conf, run

LINR = {"optimizer": "sgd", "learning_rate": 0.15, "max_iter": 4, "early_stop": "weight_diff", "tol": 1e-9}


def student(weights: np.ndarray | None = None) -> tuple[Dataset, Dataset, np.ndarray]:
    guest, host = joined("student", "y")
    labels = guest.pop("y").to_numpy(dtype=np.float64)
    return instances(standardized(guest), labels, weights), instances(standardized(host)), labels


def weights_of(harness: ComponentHarness) -> tuple[np.ndarray, np.ndarray]:
    guest = harness.model("guest", GUEST, "sshe_0")["param"]
    host = harness.model("host", HOST, "sshe_0")["param"]
    return (
        np.array([guest["weight"][n] for n in guest["header"]] + [guest["intercept"]]),
        np.array([host["weight"][n] for n in host["header"]]),
    )


def train(
    tmp_path: Path, made: list[ComponentHarness], sample_weight: np.ndarray | None = None, **params: Any
) -> tuple[ComponentHarness, Any]:
    guest, host, labels = student(sample_weight)
    merged = {**LINR, **params}
    job = conf(**merged)
    harness = run(tmp_path, made, job, parties=(guest, host), module="HeteroSSHELinR", predict=True)
    settings = reference.Settings(
        logistic=False,
        optimizer=merged["optimizer"],
        learning_rate=merged["learning_rate"],
        max_iter=merged["max_iter"],
        early_stop=merged["early_stop"],
        tol=merged["tol"],
        reveal=merged.get("reveal_every_iter", True),
        batch_size=merged.get("batch_size", -1),
        decay=merged.get("decay", 1.0),
        decay_sqrt=merged.get("decay_sqrt", True),
    )
    return harness, reference.train(guest.features(), host.features(), labels, settings, sample_weight)


def test_revealed_linr_matches_least_squares_descent(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    harness, want = train(tmp_path, harnesses, optimizer="adagrad", early_stop="diff", tol=1e-12)
    guest, host = weights_of(harness)
    np.testing.assert_allclose(guest, want.guest, atol=1e-4, rtol=0)
    np.testing.assert_allclose(host, want.host, atol=1e-4, rtol=0)
    losses = harness.model("guest", GUEST, "sshe_0")["param"]["loss_history"]
    np.testing.assert_allclose(losses, want.losses, atol=1e-6)
    harness.run_ok("sshe_1")
    np.testing.assert_allclose(
        harness.output("guest", GUEST, "sshe_1").column("predict_score"),
        harness.output("guest", GUEST, "sshe_0").column("predict_score"),
        atol=1e-6,
    )


def test_shared_linr_with_batches_and_decay(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness, want = train(
        tmp_path, harnesses, reveal_every_iter=False, batch_size=300, decay=0.5, decay_sqrt=False, max_iter=3
    )
    guest, host = weights_of(harness)
    np.testing.assert_allclose(guest, want.guest, atol=1e-4, rtol=0)
    np.testing.assert_allclose(host, want.host, atol=1e-4, rtol=0)
    assert harness.model("guest", GUEST, "sshe_0")["param"]["iters"] == want.iterations


def test_sample_weights_weigh_the_error(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    count = len(joined("student", "y")[0])
    weights = np.random.default_rng(3).uniform(0.5, 2.0, size=count)
    harness, want = train(tmp_path, harnesses, sample_weight=weights, optimizer="rmsprop", max_iter=3)
    guest, host = weights_of(harness)
    np.testing.assert_allclose(guest, want.guest, atol=1e-4, rtol=0)
    np.testing.assert_allclose(host, want.host, atol=1e-4, rtol=0)


def test_a_share_alone_is_uniform_on_the_ring(tmp_path: Path) -> None:
    """What the host holds of the guest's weights (its share) is uniform over the ring: a
    Kolmogorov-Smirnov test of many shares of one fixed weight against the uniform distribution."""
    value = shares.encode(np.full(4000, 0.37))
    masks = shares.random_ring(4000)
    host_share = masks
    guest_share = (value - masks) % shares.RING
    fractions = np.array([int(v) / shares.RING for v in host_share], dtype=np.float64)
    assert stats.kstest(fractions, "uniform").pvalue > 1e-3
    np.testing.assert_allclose(shares.decode((guest_share + host_share) % shares.RING), 0.37, atol=1e-9)
