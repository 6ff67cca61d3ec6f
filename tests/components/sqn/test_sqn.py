"""The sqn optimizer of HeteroLR and HeteroLinR against a plain numpy run of the same updates on the
joined data: full-batch gradients, every update_interval_L batches the mean weights of the run, from the
second run on a Hessian-vector product on the sampled rows, the BFGS recursion over the last memory_M
pairs and steps lr·H·gradient (see accord/components/hetero_lr/sqn.py for FATE's timing, which the
reference follows: the parties' s is taken at the weights before each step, the arbiter's after).

Tolerance: weights within 1e-3 relative (atol 1e-4) of the reference after 9 iterations; Paillier's
fixed-point encoding (23 bits per feature column) is what moves them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..harness import ComponentHarness
from ..linear.regression_data import GUEST, HOST, coefficients, instances, train
from ..stepwise.reference import read_pair

RATE, ITERATIONS = 0.3, 9


def _runs(interval: int) -> Any:
    state: dict[str, Any] = {"sum": None, "last": None, "runs": -1}

    def add(k: int, weights: np.ndarray) -> np.ndarray | None:
        state["sum"] = weights.copy() if state["sum"] is None else state["sum"] + weights
        if k % interval:
            return None
        state["runs"] += 1
        mean = state["sum"] / interval
        s = mean - state["last"] if state["runs"] > 0 else None
        state["last"], state["sum"] = mean, np.zeros_like(mean)
        return s

    return add


def reference(
    x: np.ndarray, y: np.ndarray, link: str, interval: int, memory: int, sample: np.ndarray, alpha: float
) -> np.ndarray:
    n = len(y)
    w = np.zeros(x.shape[1])
    c = 0.25 if link == "logistic" else 1.0
    parties, arbiter = _runs(interval), _runs(interval)
    running = np.zeros_like(w)
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    hessian = None
    penalty = np.ones_like(w)
    penalty[-1] = 0.0  # no penalty on the intercept's gradient
    for k in range(1, ITERATIONS + 1):
        u = x @ w
        d = 0.25 * u - 0.5 * (2 * y - 1) if link == "logistic" else u - y
        gradient = x.T @ d / n + alpha * w * penalty
        step = RATE * (gradient if hessian is None else hessian @ gradient)
        before, w = w, w - step
        running = running - step
        s_parties, s_arbiter = parties(k, before), arbiter(k, running)
        if s_arbiter is not None and s_parties is not None:
            xs = x[sample]
            product = xs.T @ (c * (xs @ s_parties)) / len(sample) + alpha * s_parties
            pairs = [*pairs, (s_arbiter, product)][-memory:]
            last_s, last_y = pairs[-1]
            eye = np.identity(len(w))
            hessian = (last_y @ last_s) / (last_y @ last_y) * eye
            for ps, py in pairs:
                rho = 1.0 / (py @ ps)
                hessian = (eye - rho * np.outer(ps, py)) @ hessian @ (eye - rho * np.outer(py, ps))
                hessian = hessian + rho * np.outer(ps, ps)
    return w


PARAMS = {
    "optimizer": "sqn",
    "learning_rate": RATE,
    "max_iter": ITERATIONS,
    "tol": 1e-12,
    "batch_size": -1,
    "decay": 0.0,
    "decay_sqrt": False,
    "init_param": {"init_method": "zeros"},
    "encrypt_param": {"key_length": 512},
}


@pytest.mark.parametrize(
    ("module", "data", "label", "sqn", "penalty"),
    [
        ("HeteroLinR", "motor_hetero_mini", "motor_speed", {"update_interval_L": 2, "memory_M": 3}, "None"),
        (
            "HeteroLR",
            "breast_hetero_mini",
            "y",
            {"update_interval_L": 3, "memory_M": 5, "sample_size": 200, "random_seed": 7},
            "L2",
        ),
    ],
)
def test_sqn_matches_the_plain_updates(
    tmp_path: Path,
    harnesses: list[ComponentHarness],
    module: str,
    data: str,
    label: str,
    sqn: dict[str, Any],
    penalty: str,
) -> None:
    guest, host = read_pair(data)
    y = guest.pop(label).to_numpy(dtype=np.float64)
    alpha = 0.1 if penalty == "L2" else 0.0
    params = {**PARAMS, "sqn_param": sqn, "penalty": penalty, "alpha": alpha or 1.0}
    harness = train(tmp_path, harnesses, module, params, instances(guest, y), [instances(host)])
    n = len(y)
    size = sqn.get("sample_size", 5000)
    sample = (
        np.arange(n)
        if size >= n
        else np.sort(np.random.RandomState(sqn.get("random_seed")).choice(np.arange(n), size, replace=False))
    )
    joined = np.hstack([guest.to_numpy(), host.to_numpy(), np.ones((n, 1))])
    link = "logistic" if module == "HeteroLR" else "linr"
    expected = reference(joined, y, link, sqn["update_interval_L"], sqn["memory_M"], sample, alpha)
    coef, intercept = coefficients(harness)
    np.testing.assert_allclose(np.append(coef, intercept), expected, rtol=1e-3, atol=1e-4)
    # The H steps differ from plain gradient descent: the test would pass vacuously otherwise.
    plain = reference(joined, y, link, 10**6, 1, sample, alpha)
    assert not np.allclose(expected, plain, rtol=1e-3)
    assert harness.model("guest", GUEST, "model_0")["meta"]["optimizer"] == "sqn"
    assert harness.model("host", HOST, "model_0")["param"]["header"] == list(host.columns)
