"""FATE's EarlyStopping callback for a linear model's guest: stop when no validation metric improved
for ``rounds`` checks (only the first metric counts with ``use_first_metric_only``).

HeteroLR watches auc and ks, where larger is better; HeteroLinR and HeteroPoisson watch errors, where
smaller is better, except r2_score and explained_variance.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from accord.components.sdk import ComponentContext

# The classification metrics HeteroLR's guest validates on; every one grows as the model improves.
CLASSIFICATION_METRICS = ("auc", "ks")
# Regression metrics where larger is better; every other one is an error, smaller is better.
REGRESSION_LARGER_IS_BETTER = frozenset({"r2_score", "explained_variance"})


class EarlyStopping:
    def __init__(
        self,
        rounds: int | None,
        metrics: list[str],
        *,
        first_only: bool = False,
        larger_is_better: Collection[str] = CLASSIFICATION_METRICS,
    ) -> None:
        self.rounds = rounds
        self.metrics = metrics[:1] if first_only else list(metrics)
        self.larger_is_better = frozenset(larger_is_better)
        self.best: dict[str, float] = {}
        self.best_iteration: int | None = None
        self.stale = 0

    @classmethod
    def classification(cls, rounds: int | None, metrics: list[str], *, first_only: bool) -> EarlyStopping:
        """HeteroLR's: the auc and ks among ``metrics`` (auc when neither is named)."""
        chosen = [name for name in metrics if name in CLASSIFICATION_METRICS] or ["auc"]
        return cls(rounds, chosen, first_only=first_only)

    @classmethod
    def regression(cls, rounds: int | None, metrics: list[str], *, first_only: bool) -> EarlyStopping:
        return cls(rounds, metrics, first_only=first_only, larger_is_better=REGRESSION_LARGER_IS_BETTER)

    def update(self, iteration: int, results: dict[str, Any], ctx: ComponentContext[Any]) -> bool:
        """Log this check's metrics; True when the last ``rounds`` checks improved none of them."""
        improved = False
        for name, result in results.items():
            value = float(result.value)
            ctx.tracker.log_metric(
                "validate",
                f"{ctx.component}.{name}",
                [[iteration, value]],
                metric_type="VALIDATION_EVALUATION",
            )
            sign = 1.0 if name in self.larger_is_better else -1.0
            if sign * value > sign * self.best.get(name, -sign * math.inf):
                self.best[name] = value
                improved = True
        if improved:
            self.best_iteration, self.stale = iteration, 0
        else:
            self.stale += 1
        return self.rounds is not None and self.stale >= self.rounds
