"""Validation during training (validation_freqs): each client scores its train and validate rows with
the trees so far and records FATE's default metrics for the task (auc and ks for binary, the
multi-class metrics, the regression errors), or the ``metrics`` asked for."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from accord.components.boosting.core.objectives import Objective
from accord.components.boosting.homo.params import HomoSecureBoostParam
from accord.components.evaluation.binary import binary_metrics
from accord.components.evaluation.multiclass import multiclass_metrics
from accord.components.evaluation.regression import regression_metrics
from accord.components.evaluation.result import MetricResult
from accord.components.sdk import ComponentContext

_BINARY_DEFAULT = ["auc", "ks"]


def metrics_of(
    objective: Objective, task_type: str, wanted: list[str] | None, y: np.ndarray, raw: np.ndarray
) -> dict[str, MetricResult]:
    values = objective.transform(raw)
    if task_type == "regression":
        return regression_metrics(y, values[:, 0], metrics=wanted or [])
    if values.shape[1] == 1:
        if len(np.unique(y)) < 2:
            return {}
        return binary_metrics(y, values[:, 0], metrics=wanted or _BINARY_DEFAULT)
    return multiclass_metrics(y, np.argmax(values, axis=1).astype(np.float64), metrics=wanted or [])


def log_validation(
    ctx: ComponentContext[HomoSecureBoostParam],
    objective: Objective,
    param: HomoSecureBoostParam,
    epoch: int,
    namespace: str,
    y: np.ndarray,
    raw: np.ndarray,
    classes: Sequence[str],
) -> None:
    for name, result in metrics_of(objective, param.task_type, param.validation_metrics, y, raw).items():
        value = result.value
        if value is None or not isinstance(value, (int, float)):
            continue
        ctx.tracker.log_metric(
            namespace,
            f"{ctx.component}.{name}",
            [[epoch, float(value)]],
            metric_type="VALIDATION_EVALUATION",
        )
