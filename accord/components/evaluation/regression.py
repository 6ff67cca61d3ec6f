"""Regression metrics with FATE 1.11's definitions, each a single value.

With ``e = label - prediction``: ``mean_absolute_error`` = mean |e|, ``mean_squared_error`` = mean e²,
``root_mean_squared_error`` = its square root, ``median_absolute_error`` = median |e|,
``explained_variance`` = 1 - var(e) / var(label) and ``r2_score`` = 1 - Σe² / Σ(label - mean)². When the
labels are all equal the last two are 1 for a perfect prediction and 0 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from accord.components.evaluation import params as names
from accord.components.evaluation.inputs import FloatVector, as_finite, check_same_length
from accord.components.evaluation.result import MetricResult, value_result
from accord.errors import DataFormatError


def regression_metrics(
    labels: npt.ArrayLike,
    predictions: npt.ArrayLike,
    *,
    metrics: Sequence[str] = (),
) -> dict[str, MetricResult]:
    """The requested regression metrics (FATE names or aliases; empty means all), by name."""
    wanted = names.resolve_metrics(names.REGRESSION, metrics)
    truth = as_finite(labels, field="labels")
    predicted = as_finite(predictions, field="predictions")
    check_same_length(truth, predicted, "labels and predictions")
    errors = truth - predicted
    return {metric: value_result(metric, _value(metric, truth, errors)) for metric in wanted}


def _value(metric: str, truth: FloatVector, errors: FloatVector) -> float:
    if metric == names.MEAN_ABSOLUTE_ERROR:
        return float(np.mean(np.abs(errors)))
    if metric == names.MEAN_SQUARED_ERROR:
        return float(np.mean(errors**2))
    if metric == names.ROOT_MEAN_SQUARED_ERROR:
        return float(np.sqrt(np.mean(errors**2)))
    if metric == names.MEDIAN_ABSOLUTE_ERROR:
        return float(np.median(np.abs(errors)))
    if metric == names.EXPLAINED_VARIANCE:
        return _one_minus_ratio(float(np.var(errors)), float(np.var(truth)))
    if metric == names.R2_SCORE:
        if truth.size < 2:
            raise DataFormatError(
                "r2_score needs at least two samples: with one the label variance is undefined",
                hint="evaluate more samples, or leave r2_score out of metrics",
            )
        residual = float(np.sum(errors**2))
        return _one_minus_ratio(residual, float(np.sum((truth - truth.mean()) ** 2)))
    raise AssertionError(f"{metric} is not a regression metric")


def _one_minus_ratio(unexplained: float, total: float) -> float:
    if total == 0.0:
        # Constant labels: nothing to explain, so only a perfect prediction scores 1.
        return 1.0 if unexplained == 0.0 else 0.0
    return 1.0 - unexplained / total
