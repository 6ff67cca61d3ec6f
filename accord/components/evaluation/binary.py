"""Binary classification metrics with FATE 1.11's definitions, vectorised.

Labels equal to ``pos_label`` are the positive class, every other label the negative one; scores are
the predicted probability (or any score) of the positive class. Except where noted, a sample counts
as predicted positive when its score is strictly above the threshold, as in FATE.

Single values: ``auc`` (area under the ROC curve, ties counted half) and ``ks`` (the largest
``tpr - fpr`` over every threshold; ``meta["sampled_ks"]`` is FATE's figure, the largest over its
100 index thresholds, which is lower on data with more than 100 distinct scores). Curves and tables
(see ``thresholds`` for how FATE samples thresholds):

============= ========================================= =========================================
metric        columns                                   rows
============= ========================================= =========================================
roc           fpr, tpr, threshold                       <=100 points of the ROC curve, then (1, 1)
ks            cut, tpr, fpr, threshold                  100 index thresholds, then all positive
lift          predicted_positive_rate, lift, threshold  best lift per rate, then (1, 1, 0)
gain          predicted_positive_rate, gain, threshold  best gain (recall) per rate, then (1, 1, 0)
precision     cut, precision, threshold                 best precision per recall value
recall        cut, recall, threshold                    the same thresholds as precision
accuracy      cut, accuracy, threshold                  100 step thresholds
confusion_mat threshold, tp, fp, tn, fn                 fixed thresholds 0, 0.01, ..., 0.99
f1_score      threshold, f1_score                       fixed thresholds 0, 0.01, ..., 0.99
quantile_pr   threshold, precision, recall              21 score quantiles, low to high
============= ========================================= =========================================

The (x, y) pairs are FATE's drawn points exactly; every row also carries its threshold, where FATE's
saved threshold list leaves out the closing point of KS and the lowest edge of precision / recall.
``psi`` compares two data sets and lives in ``accord.components.evaluation.psi``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from accord.components.evaluation import params as names
from accord.components.evaluation.inputs import FloatVector, as_finite, check_same_length, positive_mask
from accord.components.evaluation.result import MetricResult, table_result, value_result
from accord.components.evaluation.thresholds import (
    FIXED_THRESHOLDS,
    INDEX_CUTS,
    STEP_CUTS,
    IntVector,
    ScoredLabels,
    index_thresholds,
    quantile_thresholds,
    roc_curve_points,
    step_thresholds,
)
from accord.errors import ComponentParameterError, DataFormatError

# What each metric cannot do without: a ranking metric compares positives with negatives; the others
# divide by the number of positives.
_NEED_BOTH_CLASSES = frozenset({names.AUC, names.ROC, names.KS})
_NEED_POSITIVES = frozenset({names.LIFT, names.PRECISION, names.RECALL, names.F1_SCORE, names.QUANTILE_PR})

# FATE marks the "everything predicted positive" end of its precision / recall thresholds this far
# below the lowest sampled threshold.
_EDGE_OFFSET = 0.001


def binary_metrics(
    labels: npt.ArrayLike,
    scores: npt.ArrayLike,
    *,
    pos_label: int | float | str = 1,
    metrics: Sequence[str] = (),
) -> dict[str, MetricResult]:
    """The requested binary metrics (FATE names or aliases; empty means all but ``psi``), by name."""
    wanted = (
        [m for m in names.BINARY_METRICS if m != names.PSI]
        if not metrics
        else names.resolve_metrics(names.BINARY, metrics)
    )
    if names.PSI in wanted:
        raise ComponentParameterError(
            "psi compares the scores of two data sets and cannot be computed from one",
            hint="call accord.components.evaluation.psi.psi with the train and validate scores",
            field="metrics",
        )
    is_positive = positive_mask(labels, pos_label)
    score_values = as_finite(scores, field="scores")
    check_same_length(is_positive, score_values, "labels and scores")
    data = ScoredLabels.of(score_values, is_positive)
    _check_classes(data, wanted, pos_label)

    results: dict[str, MetricResult] = {}
    for metric in wanted:
        if metric in (names.PRECISION, names.RECALL):
            if metric not in results:
                results.update(_precision_recall(data))
            continue
        results[metric] = _COMPUTE[metric](data)
    return {metric: results[metric] for metric in wanted}


def _check_classes(data: ScoredLabels, wanted: Sequence[str], pos_label: int | float | str) -> None:
    missing = "positive" if data.positives == 0 else "negative" if data.negatives == 0 else None
    if missing is None:
        return
    needed = _NEED_BOTH_CLASSES | (_NEED_POSITIVES if missing == "positive" else frozenset())
    blocked = [metric for metric in wanted if metric in needed]
    if not blocked:
        return
    raise DataFormatError(
        f"{', '.join(blocked)} cannot be computed: all {data.total} samples are "
        f"{'negative' if missing == 'positive' else 'positive'} (pos_label={pos_label!r}), none is {missing}",
        hint=(
            "AUC, ROC and KS compare the scores of positives with those of negatives, and lift, precision, "
            "recall and F1 divide by the number of positives, so they need both classes; evaluate data "
            "with both classes, check pos_label, or leave these metrics out"
        ),
    )


def auc(data: ScoredLabels) -> MetricResult:
    fpr, tpr, _ = roc_curve_points(data)
    return value_result(names.AUC, _area(fpr, tpr))


def _area(fpr: FloatVector, tpr: FloatVector) -> float:
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)


def roc(data: ScoredLabels) -> MetricResult:
    fpr, tpr, thresholds = roc_curve_points(data)
    # FATE keeps the points at positions int(size * cut); picks repeat when there are few points.
    picks = np.unique((thresholds.size * STEP_CUTS).astype(np.int64))
    fpr = np.append(fpr[picks], 1.0)
    tpr = np.append(tpr[picks], 1.0)
    # FATE closes the curve at (1, 1) and labels that point with threshold 1.
    thresholds = np.append(thresholds[picks], 1.0)
    order = np.argsort(fpr, kind="stable")
    return table_result(
        names.ROC,
        "ROC_EVALUATION",
        {"fpr": fpr[order], "tpr": tpr[order], "threshold": thresholds[order]},
        meta={"unit_name": "fpr", "ordinate_name": "tpr"},
    )


def ks(data: ScoredLabels) -> MetricResult:
    thresholds = index_thresholds(data.scores)
    tp, fp = data.above(thresholds)
    tpr = tp / data.positives
    fpr = fp / data.negatives
    # The value is the exact KS over every threshold (scikit-learn's roc_curve gives the same); FATE's
    # summary takes the best of its 100 sampled thresholds, kept in the meta for comparison.
    sampled = float(np.max(tpr - fpr))
    all_fpr, all_tpr, _ = roc_curve_points(data)
    return table_result(
        names.KS,
        "KS_EVALUATION",
        {
            "cut": np.append(INDEX_CUTS, 1.0),
            "tpr": np.append(tpr, 1.0),
            "fpr": np.append(fpr, 1.0),
            # The closing point predicts every sample positive.
            "threshold": np.append(thresholds, data.scores.min() - _EDGE_OFFSET),
        },
        value=float(np.max(all_tpr - all_fpr)),
        meta={"sampled_ks": sampled},
    )


def _best_per_x(x: FloatVector, y: FloatVector) -> IntVector:
    """For each distinct x, in order of first appearance, the first position of its largest y."""
    best: dict[float, int] = {}
    ys: list[float] = y.tolist()
    for position, x_value in enumerate(x.tolist()):
        kept = best.get(x_value)
        if kept is None or ys[kept] < ys[position]:
            best[x_value] = position
    return np.fromiter(best.values(), dtype=np.int64, count=len(best))


def _lift_or_gain(data: ScoredLabels, name: str) -> MetricResult:
    thresholds = step_thresholds(data.scores)
    tp, fp = data.above(thresholds)
    predicted = tp + fp
    rate = predicted / data.total
    if name == names.LIFT:
        # FATE counts precision as 1 where nothing is predicted positive.
        precision = np.where(predicted == 0, 1.0, tp / np.maximum(predicted, 1))
        y = precision / (data.positives / data.total)
    else:
        y = tp / data.positives if data.positives else np.ones(tp.shape)
    kept = _best_per_x(rate, y)
    # FATE closes both curves at (1, 1) and labels that point with threshold 0.
    rate = np.append(rate[kept], 1.0)
    y = np.append(y[kept], 1.0)
    thresholds = np.append(thresholds[kept], 0.0)
    order = np.argsort(rate, kind="stable")
    return table_result(
        name,
        f"{name.upper()}_EVALUATION",
        {"predicted_positive_rate": rate[order], name: y[order], "threshold": thresholds[order]},
    )


def lift(data: ScoredLabels) -> MetricResult:
    return _lift_or_gain(data, names.LIFT)


def gain(data: ScoredLabels) -> MetricResult:
    return _lift_or_gain(data, names.GAIN)


def _precision(tp: IntVector, fp: IntVector) -> FloatVector:
    predicted = tp + fp
    # FATE imputes 1 where nothing is predicted positive, which keeps the PR curve tidy.
    return np.where(predicted == 0, 1.0, tp / np.maximum(predicted, 1))


def _precision_recall(data: ScoredLabels) -> dict[str, MetricResult]:
    step = step_thresholds(data.scores)
    thresholds = np.append(step, step.min() - _EDGE_OFFSET)
    cuts = np.append(STEP_CUTS, 1.0)
    tp, fp = data.above(thresholds)
    precision = _precision(tp, fp)
    recall = tp / data.positives
    kept = _best_per_x(recall, precision)
    return {
        name: table_result(
            name,
            f"{name.upper()}_BINARY_EVALUATION",
            {"cut": cuts[kept], name: values[kept], "threshold": thresholds[kept]},
            meta={"ordinate_name": name.capitalize()},
        )
        for name, values in ((names.PRECISION, precision), (names.RECALL, recall))
    }


def accuracy(data: ScoredLabels) -> MetricResult:
    thresholds = step_thresholds(data.scores)
    tp, fp = data.above(thresholds)
    correct = tp + (data.negatives - fp)
    return table_result(
        names.ACCURACY,
        "ACCURACY_EVALUATION",
        {"cut": STEP_CUTS, names.ACCURACY: correct / data.total, "threshold": thresholds},
    )


def confusion_mat(data: ScoredLabels) -> MetricResult:
    tp, fp = data.above(FIXED_THRESHOLDS)
    return table_result(
        names.CONFUSION_MAT,
        "CONFUSION_MAT",
        {
            "threshold": FIXED_THRESHOLDS,
            "tp": tp,
            "fp": fp,
            "tn": data.negatives - fp,
            "fn": data.positives - tp,
        },
    )


def f1_score(data: ScoredLabels) -> MetricResult:
    tp, fp = data.above(FIXED_THRESHOLDS)
    precision = _precision(tp, fp)
    recall = tp / data.positives
    total = precision + recall
    # FATE divides by 1e-6 where precision and recall are both 0, which makes F1 0 there.
    f1 = 2 * precision * recall / np.where(total == 0, 1e-6, total)
    return table_result(names.F1_SCORE, "F1_SCORE", {"threshold": FIXED_THRESHOLDS, names.F1_SCORE: f1})


def quantile_pr(data: ScoredLabels) -> MetricResult:
    thresholds = quantile_thresholds(data.scores)
    tp, fp = data.above(thresholds)
    return table_result(
        names.QUANTILE_PR,
        "QUANTILE_PR",
        {"threshold": thresholds, "precision": _precision(tp, fp), "recall": tp / data.positives},
    )


_COMPUTE: dict[str, Callable[[ScoredLabels], MetricResult]] = {
    names.AUC: auc,
    names.KS: ks,
    names.ROC: roc,
    names.LIFT: lift,
    names.GAIN: gain,
    names.ACCURACY: accuracy,
    names.CONFUSION_MAT: confusion_mat,
    names.F1_SCORE: f1_score,
    names.QUANTILE_PR: quantile_pr,
}
