"""The arbiter's optimizers: from a plain gradient to the step each party subtracts from its weights.

Constants follow FATE 1.x: rmsprop rho 0.99 and eps 1e-6, adam betas 0.9 / 0.999 and eps 1e-8, adagrad
eps 1e-7, Nesterov momentum 0.9; the learning rate decays per iteration t as lr / sqrt(1 + decay·t)
(decay_sqrt) or lr / (1 + decay·t).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_RMSPROP_RHO = 0.99
_RMSPROP_EPS = 1e-6
_ADAM_BETA1 = 0.9
_ADAM_BETA2 = 0.999
_ADAM_EPS = 1e-8
_ADAGRAD_EPS = 1e-7
_NESTEROV_MOMENTUM = 0.9


class Optimizer:
    def __init__(self, name: str, learning_rate: float, *, decay: float, decay_sqrt: bool) -> None:
        self.name = name
        self.learning_rate = learning_rate
        self.decay = decay
        self.decay_sqrt = decay_sqrt
        self._first: np.ndarray | None = None
        self._second: np.ndarray | None = None
        self._steps = 0

    def rate(self, iteration: int) -> float:
        scale = 1 + self.decay * iteration
        return self.learning_rate / (np.sqrt(scale) if self.decay_sqrt else scale)

    def step(self, gradient: np.ndarray, iteration: int) -> np.ndarray:
        """The change to subtract from the weights for ``gradient`` at ``iteration``."""
        return np.asarray(self._step(gradient, iteration), dtype=np.float64)

    def _step(self, gradient: np.ndarray, iteration: int) -> Any:
        lr = self.rate(iteration)
        if self._first is None or self._second is None:
            self._first = np.zeros_like(gradient)
            self._second = np.zeros_like(gradient)
        self._steps += 1
        if self.name in ("sgd", "sqn"):
            # sqn: the arbiter passes H·gradient once it has an inverse-Hessian estimate (sqn.py).
            return lr * gradient
        if self.name == "rmsprop":
            self._second = _RMSPROP_RHO * self._second + (1 - _RMSPROP_RHO) * gradient**2
            return lr * gradient / np.sqrt(self._second + _RMSPROP_EPS)
        if self.name == "adam":
            self._first = _ADAM_BETA1 * self._first + (1 - _ADAM_BETA1) * gradient
            self._second = _ADAM_BETA2 * self._second + (1 - _ADAM_BETA2) * gradient**2
            first = self._first / (1 - _ADAM_BETA1**self._steps)
            second = self._second / (1 - _ADAM_BETA2**self._steps)
            return lr * first / (np.sqrt(second) + _ADAM_EPS)
        if self.name == "adagrad":
            self._second = self._second + gradient**2
            return lr * gradient / (np.sqrt(self._second) + _ADAGRAD_EPS)
        if self.name == "nesterov_momentum_sgd":
            previous = self._first
            self._first = _NESTEROV_MOMENTUM * previous - lr * gradient
            # w_new = w + (1 + mu)·v_new - mu·v_old, written as a change to subtract.
            delta: np.ndarray = _NESTEROV_MOMENTUM * previous - (1 + _NESTEROV_MOMENTUM) * self._first
            return delta
        raise ValueError(f"unknown optimizer {self.name!r}")


def penalty_gradient(weights: np.ndarray, penalty: str | None, alpha: float) -> np.ndarray:
    """The regularisation term of the gradient (never applied to the intercept, which is not passed)."""
    if penalty == "L2":
        term = alpha * weights
    elif penalty == "L1":
        term = alpha * np.sign(weights)
    else:
        term = np.zeros_like(weights)
    return np.asarray(term, dtype=np.float64)


def penalty_loss(weights: np.ndarray, penalty: str | None, alpha: float) -> float:
    if penalty == "L2":
        return float(0.5 * alpha * np.dot(weights, weights))
    if penalty == "L1":
        return float(alpha * np.abs(weights).sum())
    return 0.0
