"""FATE's EarlyStopping callback for HeteroLR's guest: stop when no validation metric improved for
``rounds`` checks."""

from __future__ import annotations

import math
from typing import Any

from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.sdk import ComponentContext


class EarlyStopping:
    def __init__(self, rounds: int | None, metrics: list[str]) -> None:
        self.rounds = rounds
        self.metrics = [name for name in metrics if name in ("auc", "ks")] or ["auc"]
        self.best: dict[str, float] = {}
        self.best_iteration: int | None = None
        self.stale = 0

    def update(self, iteration: int, results: dict[str, Any], ctx: ComponentContext[HeteroLRParam]) -> bool:
        improved = False
        for name in self.metrics:
            value = float(results[name].value)
            ctx.tracker.log_metric(
                "validate",
                f"{ctx.component}.{name}",
                [[iteration, value]],
                metric_type="VALIDATION_EVALUATION",
            )
            if value > self.best.get(name, -math.inf):
                self.best[name] = value
                improved = True
        if improved:
            self.best_iteration, self.stale = iteration, 0
        else:
            self.stale += 1
        return self.rounds is not None and self.stale >= self.rounds
