"""The numeric core of FATE's Evaluation module: one entry point per task type and ``evaluate``.

``evaluate(param, labels, predictions)`` computes the metrics ``param`` names for one data set (one of
FATE's train / validate / predict splits): scores of the positive class for ``binary``, predicted class
indices for ``multi``, predicted values for ``regression``. It returns a ``MetricResult`` per metric, in
the order of ``param.metrics`` (see ``result`` for their shape). ``psi`` is only computed when the
train data of the same model are passed as ``psi_reference``, as FATE only computes it once it has
seen both splits; ``unfold_multi_result`` is served by ``one_vs_rest_metrics``, which needs the
per-class scores.
"""

from __future__ import annotations

import numpy.typing as npt

from accord.components.evaluation import params as names
from accord.components.evaluation.binary import binary_metrics
from accord.components.evaluation.multiclass import multiclass_metrics, one_vs_rest_metrics
from accord.components.evaluation.params import EvaluateParam
from accord.components.evaluation.psi import psi
from accord.components.evaluation.regression import regression_metrics
from accord.components.evaluation.result import ROUND_DIGITS, MetricResult
from accord.errors import ComponentParameterError

__all__ = [
    "ROUND_DIGITS",
    "EvaluateParam",
    "MetricResult",
    "binary_metrics",
    "evaluate",
    "multiclass_metrics",
    "one_vs_rest_metrics",
    "psi",
    "regression_metrics",
]


def evaluate(
    param: EvaluateParam,
    labels: npt.ArrayLike,
    predictions: npt.ArrayLike,
    *,
    psi_reference: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> dict[str, MetricResult]:
    """The metrics of ``param`` on one data set; ``{}`` when ``param.need_run`` is false.

    ``psi_reference`` is ``(labels, scores)`` of the train data; with it and ``psi`` among the metrics,
    the PSI of these scores against the train scores is included, otherwise ``psi`` is left out.
    """
    if not param.need_run:
        return {}
    if param.eval_type == names.BINARY:
        return _binary(param, labels, predictions, psi_reference)
    if param.eval_type == names.MULTI:
        return multiclass_metrics(labels, predictions, metrics=param.metrics)
    if param.eval_type == names.REGRESSION:
        return regression_metrics(labels, predictions, metrics=param.metrics)
    raise ComponentParameterError(
        f"eval_type {param.eval_type!r} is not evaluated by this version of Evaluation",
        hint=f"use eval_type {names.BINARY!r}, {names.MULTI!r} or {names.REGRESSION!r}",
        field="eval_type",
    )


def _binary(
    param: EvaluateParam,
    labels: npt.ArrayLike,
    scores: npt.ArrayLike,
    psi_reference: tuple[npt.ArrayLike, npt.ArrayLike] | None,
) -> dict[str, MetricResult]:
    one_set = [metric for metric in param.metrics if metric != names.PSI]
    results = binary_metrics(labels, scores, pos_label=param.pos_label, metrics=one_set) if one_set else {}
    if names.PSI in param.metrics and psi_reference is not None:
        train_labels, train_scores = psi_reference
        results[names.PSI] = psi(train_labels, train_scores, labels, scores, pos_label=param.pos_label)
    return {metric: results[metric] for metric in param.metrics if metric in results}
