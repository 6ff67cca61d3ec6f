"""Boosting objectives with FATE 1.11's gradients, hessians, initial scores and losses.

Scores are raw (margin) scores of shape ``(n, outputs)``; ``transform`` maps them to predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from accord.errors import ComponentParameterError

_EPS = 1e-15


class Objective(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def outputs(self) -> int: ...

    def initial_scores(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray: ...

    def gradients(self, y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def transform(self, scores: np.ndarray) -> np.ndarray: ...

    def loss(self, y: np.ndarray, scores: np.ndarray, weights: np.ndarray | None) -> float: ...


def _mean(values: np.ndarray, weights: np.ndarray | None) -> float:
    return float(np.average(values, weights=weights))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -500, 500))))


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class BinaryCrossEntropy:
    name: str = "cross_entropy"
    outputs: int = 1

    def initial_scores(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        # FATE starts from the log-odds of the label mean.
        p = min(max(_mean(y, weights), _EPS), 1 - _EPS)
        return np.array([np.log(p / (1 - p))])

    def gradients(self, y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = _sigmoid(scores)
        return p - y.reshape(-1, 1), p * (1 - p)

    def transform(self, scores: np.ndarray) -> np.ndarray:
        return _sigmoid(scores)

    def loss(self, y: np.ndarray, scores: np.ndarray, weights: np.ndarray | None) -> float:
        p = np.clip(_sigmoid(scores[:, 0]), _EPS, 1 - _EPS)
        return _mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), weights)


@dataclass(frozen=True)
class SoftmaxCrossEntropy:
    outputs: int
    name: str = "cross_entropy"

    def initial_scores(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        # FATE's softmax loss starts every class at zero.
        return np.zeros(self.outputs)

    def _onehot(self, y: np.ndarray) -> np.ndarray:
        return np.eye(self.outputs)[y.astype(np.int64)]

    def gradients(self, y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = _softmax(scores)
        return p - self._onehot(y), p * (1 - p)

    def transform(self, scores: np.ndarray) -> np.ndarray:
        return _softmax(scores)

    def loss(self, y: np.ndarray, scores: np.ndarray, weights: np.ndarray | None) -> float:
        p = np.clip(_softmax(scores)[np.arange(len(y)), y.astype(np.int64)], _EPS, 1.0)
        return _mean(-np.log(p), weights)


@dataclass(frozen=True)
class Regression:
    """The regression losses; ``param`` is huber's delta, fair's c or tweedie's variance power."""

    name: str
    param: float = 1.0
    outputs: int = 1

    def initial_scores(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        if self.name == "lae":
            return np.array([float(np.median(y))])
        if self.name == "tweedie":
            # tweedie predicts exp(score): start at the log of the mean.
            return np.array([float(np.log(max(_mean(y, weights), _EPS)))])
        return np.array([_mean(y, weights)])

    def gradients(self, y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pred = scores[:, 0]
        diff = pred - y
        if self.name == "lse":
            g, h = 2 * diff, np.full_like(diff, 2.0)
        elif self.name == "lae":
            g = np.where(diff > _EPS, 1.0, np.where(diff < -_EPS, -1.0, 0.0))
            h = np.ones_like(diff)
        elif self.name == "huber":
            scaled = 1 + (diff / self.param) ** 2
            g, h = diff / np.sqrt(scaled), 1 / scaled**1.5
        elif self.name == "fair":
            c = self.param
            g, h = c * diff / (np.abs(diff) + c), c**2 / (np.abs(diff) + c) ** 2
        elif self.name == "log_cosh":
            t = np.tanh(diff)
            g, h = t, 1 - t**2
        else:  # tweedie
            rho = self.param
            a, b = np.exp((1 - rho) * pred), np.exp((2 - rho) * pred)
            g, h = -y * a + b, -y * (1 - rho) * a + (2 - rho) * b
        return g.reshape(-1, 1), h.reshape(-1, 1)

    def transform(self, scores: np.ndarray) -> np.ndarray:
        return np.exp(scores) if self.name == "tweedie" else scores

    def loss(self, y: np.ndarray, scores: np.ndarray, weights: np.ndarray | None) -> float:
        pred = scores[:, 0]
        diff = pred - y
        if self.name == "lse":
            per = diff**2
        elif self.name == "lae":
            per = np.abs(diff)
        elif self.name == "huber":
            per = self.param**2 * (np.sqrt(1 + (diff / self.param) ** 2) - 1)
        elif self.name == "fair":
            c = self.param
            per = c**2 * (np.abs(diff) / c - np.log(np.abs(diff) / c + 1))
        elif self.name == "log_cosh":
            per = np.log(np.cosh(diff))
        else:
            rho = self.param
            per = -y * np.exp((1 - rho) * pred) / (1 - rho) + np.exp((2 - rho) * pred) / (2 - rho)
        return _mean(per, weights)


REGRESSION = ("lse", "lae", "huber", "fair", "log_cosh", "tweedie")
_DEFAULT_PARAM = {"huber": 1.0, "fair": 1.0, "tweedie": 1.5}


def objective_for(task_type: str, objective: str, params: Sequence[float], classes: int) -> Objective:
    """The objective for FATE's ``task_type`` and ``objective_param`` (``classes`` labels seen)."""
    name = objective.lower()
    if task_type == "classification":
        if name != "cross_entropy":
            raise ComponentParameterError(
                f"objective_param.objective {objective!r} does not fit task_type classification",
                hint="use cross_entropy for classification",
            )
        return BinaryCrossEntropy() if classes <= 2 else SoftmaxCrossEntropy(outputs=classes)
    if name not in REGRESSION:
        raise ComponentParameterError(
            f"objective_param.objective {objective!r} does not fit task_type regression",
            hint=f"use one of {', '.join(REGRESSION)}",
        )
    param = float(params[0]) if params else _DEFAULT_PARAM.get(name, 1.0)
    if name == "tweedie" and not 1 <= param < 2:
        raise ComponentParameterError(
            f"objective_param.params {list(params)}: tweedie's variance power must be in [1, 2)",
            hint="e.g. params [1.5]",
        )
    return Regression(name=name, param=param)
