"""Objectives' gradients against numeric derivatives of their losses."""

from __future__ import annotations

import numpy as np
import pytest

from accord.components.boosting.core.objectives import objective_for


@pytest.mark.parametrize(
    ("task", "name", "params"),
    [
        ("classification", "cross_entropy", []),
        ("regression", "lse", []),
        ("regression", "huber", [1.5]),
        ("regression", "fair", [2.0]),
        ("regression", "log_cosh", []),
        ("regression", "tweedie", [1.5]),
    ],
)
def test_gradients_are_loss_derivatives(task: str, name: str, params: list[float]) -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 6).astype(float) if task == "classification" else rng.uniform(0.5, 3, 6)
    objective = objective_for(task, name, params, 2)
    scores = rng.normal(size=(6, 1)) * 0.5
    g, h = objective.gradients(y, scores)
    eps = 1e-6
    for i in range(6):
        up, down = scores.copy(), scores.copy()
        up[i, 0] += eps
        down[i, 0] -= eps
        numeric = (objective.loss(y, up, None) - objective.loss(y, down, None)) * 6 / (2 * eps)
        assert np.isclose(g[i, 0], numeric, rtol=1e-4, atol=1e-6)
        grad_up = objective.gradients(y, up)[0][i, 0]
        grad_down = objective.gradients(y, down)[0][i, 0]
        assert np.isclose(h[i, 0], (grad_up - grad_down) / (2 * eps), rtol=1e-4, atol=1e-6)


def test_softmax_and_initial_scores() -> None:
    y = np.array([0, 1, 2, 2])
    objective = objective_for("classification", "cross_entropy", [], 3)
    assert objective.outputs == 3 and objective.initial_scores(y, None).tolist() == [0, 0, 0]
    g, h = objective.gradients(y, np.zeros((4, 3)))
    assert np.allclose(g[0], [-2 / 3, 1 / 3, 1 / 3]) and np.allclose(h, 2 / 9)
    binary = objective_for("classification", "cross_entropy", [], 2)
    assert np.isclose(binary.initial_scores(np.array([1, 1, 1, 0]), None)[0], np.log(3))
    assert np.allclose(binary.transform(np.array([[0.0]])), 0.5)
