"""A plain numpy gradient descent doing what FATE's SSHE models compute, for the tests to compare with.

LR's error is the Taylor sigmoid 0.25·z + 0.5 - y and its loss ln 2 + mean(0.5·z - y·z + z²/8);
LinR's error is z - y and its loss mean((z - y)²) / 2; sample weights scale the error, not the
loss. The batches are consecutive rows; the penalty never applies to the intercept (the guest's last
weight). With revealed gradients each party steps its own weights with its own optimizer; otherwise
sgd / Nesterov step on all weights at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from accord.components.hetero_lr.optimizer import (
    _NESTEROV_MOMENTUM,
    Optimizer,
    penalty_gradient,
    penalty_loss,
)


@dataclass
class Settings:
    logistic: bool = True
    optimizer: str = "sgd"
    learning_rate: float = 0.15
    alpha: float = 0.01
    penalty: str | None = "L2"
    max_iter: int = 3
    batch_size: int = -1
    decay: float = 1.0
    decay_sqrt: bool = True
    fit_intercept: bool = True
    reveal: bool = True
    early_stop: str = "diff"
    tol: float = 1e-4
    init_const: float = 0.0


@dataclass
class Result:
    guest: np.ndarray
    host: np.ndarray
    losses: list[float] = field(default_factory=list)
    iterations: int = 0


def train(
    xg: np.ndarray, xh: np.ndarray, y: np.ndarray, s: Settings, sample_weight: np.ndarray | None = None
) -> Result:
    """``sample_weight`` (scaled to a mean of 1, as FATE) weighs each row's error in the gradient."""
    scaled = None if sample_weight is None else sample_weight * len(y) / np.sum(sample_weight)
    if s.fit_intercept:
        xg = np.hstack([xg, np.ones((len(xg), 1))])
    wg = np.full(xg.shape[1], s.init_const)
    wh = np.full(xh.shape[1], s.init_const)
    mask_g = np.ones(len(wg))
    if s.fit_intercept:
        mask_g[-1] = 0.0
    mask = np.concatenate([mask_g, np.ones(len(wh))])
    opt_g = Optimizer(s.optimizer, s.learning_rate, decay=s.decay, decay_sqrt=s.decay_sqrt)
    opt_h = Optimizer(s.optimizer, s.learning_rate, decay=s.decay, decay_sqrt=s.decay_sqrt)
    velocity = np.zeros(len(mask))
    size = len(y) if s.batch_size == -1 else min(s.batch_size, len(y))
    result = Result(wg, wh)
    alpha = s.alpha if s.penalty == "L2" else 0.0
    for iteration in range(s.max_iter):
        before = np.concatenate([wg, wh])
        total = 0.0
        for start in range(0, len(y), size):
            rows = slice(start, min(start + size, len(y)))
            n = len(y[rows])
            z = xg[rows] @ wg + xh[rows] @ wh
            if s.logistic:
                error = 0.25 * z + 0.5 - y[rows]
                total += n * (math.log(2) + np.mean(0.5 * z - y[rows] * z + 0.125 * z * z))
            else:
                error = z - y[rows]
                total += n * np.mean((z - y[rows]) ** 2) / 2
            if scaled is not None:
                error = error * scaled[rows]
            gg, gh = xg[rows].T @ error / n, xh[rows].T @ error / n
            if s.reveal:
                gg = gg + mask_g * penalty_gradient(wg, s.penalty, s.alpha)
                gh = gh + penalty_gradient(wh, s.penalty, s.alpha)
                wg = wg - opt_g.step(gg, iteration)
                wh = wh - opt_h.step(gh, iteration)
                continue
            rate = opt_g.rate(iteration)
            w = np.concatenate([wg, wh])
            g = np.concatenate([gg, gh])
            if s.optimizer == "sgd":
                w = w * (1 - rate * alpha * mask) - rate * g
            else:
                fresh = _NESTEROV_MOMENTUM * velocity - rate * g - rate * alpha * mask * w
                w = w - _NESTEROV_MOMENTUM * velocity + (1 + _NESTEROV_MOMENTUM) * fresh
                velocity = fresh
            wg, wh = w[: len(wg)], w[len(wg) :]
        result.iterations = iteration + 1
        after = np.concatenate([wg, wh])
        if s.early_stop == "weight_diff":
            converged = float(np.linalg.norm(after - before)) < s.tol
        else:
            loss = total / len(y) + penalty_loss(before * mask, s.penalty, s.alpha)
            converged = (
                loss < s.tol
                if s.early_stop == "abs"
                else bool(result.losses and abs(result.losses[-1] - loss) < s.tol)
            )
            result.losses.append(loss)
        result.guest, result.host = wg, wh
        if converged:
            break
    return result
