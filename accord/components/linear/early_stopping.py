"""FATE's EarlyStopping callback for a regression model's guest: stop when no validation metric
improved (went down; r2_score and explained_variance go up) for ``rounds`` checks."""

from __future__ import annotations

import math
from typing import Any

from accord.components.sdk import ComponentContext

# Regression metrics where larger is better; every other one is an error, smaller is better.
_LARGER_IS_BETTER = frozenset({"r2_score", "explained_variance"})


class RegressionEarlyStopping:
    def __init__(self, rounds: int | None, metrics: list[str], first_only: bool) -> None:
        self.rounds = rounds
        self.metrics = metrics[:1] if first_only else list(metrics)
        self.best: dict[str, float] = {}
        self.best_iteration: int | None = None
        self.stale = 0

    def update(self, iteration: int, results: dict[str, Any], ctx: ComponentContext[Any]) -> bool:
        improved = False
        for name, result in results.items():
            value = float(result.value)
            ctx.tracker.log_metric(
                "validate",
                f"{ctx.component}.{name}",
                [[iteration, value]],
                metric_type="VALIDATION_EVALUATION",
            )
            sign = 1.0 if name in _LARGER_IS_BETTER else -1.0
            if sign * value > sign * self.best.get(name, -sign * math.inf):
                self.best[name] = value
                improved = True
        if improved:
            self.best_iteration, self.stale = iteration, 0
        else:
            self.stale += 1
        return self.rounds is not None and self.stale >= self.rounds
