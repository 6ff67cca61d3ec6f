"""Validation during training: scores of the validate rows tree by tree, FATE's metrics every
``validation_freqs`` rounds, and early stopping when a metric stops improving."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from accord.components.boosting.core.objectives import Objective
from accord.components.boosting.core.tree import Tree, leaf_weights
from accord.components.boosting.hetero.params import HeteroSecureBoostParam
from accord.components.evaluation.metrics import binary_metrics, multiclass_metrics, regression_metrics
from accord.components.sdk import ComponentContext, Dataset

DEFAULT_METRICS = {
    "binary": ["auc", "ks"],
    "multi": ["accuracy", "precision", "recall"],
    "regression": ["root_mean_squared_error", "mean_absolute_error"],
}
# Metrics where a smaller value is better.
_LOWER_IS_BETTER = ("error", "loss", "mse", "rmse", "mae", "msle", "rmsle")


class Validator:
    def __init__(
        self,
        ctx: ComponentContext[Any],
        objective: Objective,
        classes: list[float],
        validate: Dataset,
        init: np.ndarray,
    ) -> None:
        self.ctx = ctx
        self.objective = objective
        self.classes = classes
        labels = validate.labels()
        self.labels = labels if labels is not None else np.zeros(len(validate))
        self.scores = np.tile(init, (len(validate), 1))
        self.best: dict[str, float] = {}
        self.stale: dict[str, int] = {}
        self.best_round: int | None = None

    @property
    def kind(self) -> str:
        if not self.classes:
            return "regression"
        return "binary" if len(self.classes) <= 2 else "multi"

    def add(self, tree: Tree, leaves: np.ndarray, k: int, multi_output: bool, learning_rate: float) -> None:
        outputs = self.scores.shape[1] if multi_output else 1
        update = leaf_weights(tree, leaves, outputs) * learning_rate
        if multi_output:
            self.scores += update
        else:
            self.scores[:, k] += update[:, 0]

    def evaluate(self, round_: int, param: HeteroSecureBoostParam) -> bool:
        """Log the metrics after ``round_``; True when early stopping says stop."""
        kind = self.kind
        metrics = param.validation_metrics or DEFAULT_METRICS[kind]
        predicted = self.objective.transform(self.scores)
        if kind == "binary":
            results = binary_metrics(self.labels, predicted[:, 0], metrics=metrics)
        elif kind == "multi":
            chosen = np.asarray(self.classes)[predicted.argmax(axis=1)]
            results = multiclass_metrics(self.labels, chosen, metrics=metrics)
        else:
            results = regression_metrics(self.labels, predicted[:, 0], metrics=metrics)
        improved_any = False
        watched = [name for name, result in results.items() if result.value is not None]
        if param.first_metric_only:
            watched = watched[:1]
        for name, result in results.items():
            if result.value is None:
                continue
            value = float(result.value)
            self.ctx.tracker.log_metric(
                "validate",
                f"{self.ctx.component}.{name}",
                [[round_, value]],
                metric_type="VALIDATION_EVALUATION",
            )
            if name not in watched:
                continue
            lower = any(part in name for part in _LOWER_IS_BETTER)
            signed = -value if lower else value
            if signed > self.best.get(name, -math.inf):
                self.best[name], self.stale[name] = signed, 0
                improved_any = True
            else:
                self.stale[name] = self.stale.get(name, 0) + 1
        if improved_any or self.best_round is None:
            self.best_round = round_
        rounds = param.stopping_rounds
        return rounds is not None and any(self.stale.get(name, 0) >= rounds for name in watched)
