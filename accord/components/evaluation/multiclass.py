"""Multi-class classification metrics with FATE 1.11's definitions.

Labels and predicted labels are class indices (non-negative integers, as DataTransform encodes them).
``accuracy`` is the share of correct predictions. ``precision`` and ``recall`` are computed per class
over the sorted union of true and predicted classes (0 where a class is never predicted, resp. never
true); their single value is the plain mean over those classes, and their rows ``class, precision``
(resp. ``class, recall``) cover every index from 0 to the largest class, a class absent from both
label sets drawn as 0, as FATE draws them.

``one_vs_rest_metrics`` is FATE's ``unfold_multi_result``: per class, AUC and KS of the binary task
"this class or not" on the predicted score of that class (0 for both when the class is always or never
the true one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from accord.components.evaluation import binary
from accord.components.evaluation import params as names
from accord.components.evaluation.inputs import FloatVector, as_finite, as_vector, check_same_length
from accord.components.evaluation.result import MetricResult, table_result, value_result
from accord.components.evaluation.thresholds import ScoredLabels
from accord.errors import DataFormatError


def multiclass_metrics(
    labels: npt.ArrayLike,
    predicted_labels: npt.ArrayLike,
    *,
    metrics: Sequence[str] = (),
) -> dict[str, MetricResult]:
    """The requested multi-class metrics (FATE names or aliases; empty means all), by name."""
    wanted = names.resolve_metrics(names.MULTI, metrics)
    truth = _class_indices(labels, field="labels")
    predicted = _class_indices(predicted_labels, field="predicted labels")
    check_same_length(truth, predicted, "labels and predicted labels")

    classes, positions = np.unique(np.concatenate((truth, predicted)), return_inverse=True)
    true_at, predicted_at = positions[: truth.size], positions[truth.size :]
    correct = truth == predicted
    hits = np.bincount(true_at[correct], minlength=classes.size)
    per_class = {
        names.PRECISION: _share(hits, np.bincount(predicted_at, minlength=classes.size)),
        names.RECALL: _share(hits, np.bincount(true_at, minlength=classes.size)),
    }

    results: dict[str, MetricResult] = {}
    for metric in wanted:
        if metric == names.ACCURACY:
            results[metric] = value_result(metric, float(correct.mean()))
            continue
        scores = per_class[metric]
        drawn = np.arange(int(classes.max()) + 1)
        padded = np.zeros(drawn.size)
        padded[classes] = scores
        results[metric] = table_result(
            metric,
            f"{metric.upper()}_MULTI_EVALUATION",
            {"class": drawn, metric: padded},
            value=float(scores.mean()),
            meta={"ordinate_name": metric.capitalize(), "classes": [int(c) for c in classes]},
        )
    return results


def _share(part: npt.NDArray[np.int64], whole: npt.NDArray[np.int64]) -> FloatVector:
    return np.where(whole == 0, 0.0, part / np.maximum(whole, 1))


def _class_indices(values: npt.ArrayLike, *, field: str) -> npt.NDArray[np.int64]:
    array = as_vector(values, field=field)
    if array.dtype.kind not in "biuf":
        raise DataFormatError(
            f"{field} must be class indices (0, 1, 2, ...), got values of type {array.dtype}",
            hint="encode the classes as integers 0..k-1, as DataTransform does",
        )
    numbers = as_finite(array, field=field)
    bad = (numbers < 0) | (numbers != np.round(numbers))
    if bad.any():
        where = int(np.argmax(bad))
        raise DataFormatError(
            f"{field} must be class indices (0, 1, 2, ...); position {where} holds {float(numbers[where])!r}",
            hint="encode the classes as integers 0..k-1, as DataTransform does",
        )
    return numbers.astype(np.int64)


def one_vs_rest_metrics(
    labels: npt.ArrayLike,
    class_scores: Mapping[int | str, npt.ArrayLike],
) -> dict[str, dict[str, MetricResult]]:
    """AUC and KS of each class against the rest, keyed by the class as text, then by metric name."""
    truth = _class_indices(labels, field="labels")
    results: dict[str, dict[str, MetricResult]] = {}
    for label, scores in class_scores.items():
        score_values = as_finite(scores, field=f"scores of class {label}")
        check_same_length(truth, score_values, f"labels and scores of class {label}")
        data = ScoredLabels.of(score_values, truth == _class_key(label))
        if data.positives and data.negatives:
            auc = binary.auc(data).value or 0.0
            ks = binary.ks(data).value or 0.0
        else:
            # FATE scores a class that is always or never the true one as 0 instead of failing.
            auc = ks = 0.0
        results[str(label)] = {names.AUC: value_result(names.AUC, auc), names.KS: value_result(names.KS, ks)}
    return results


def _class_key(label: int | str) -> int:
    try:
        return int(label)
    except ValueError:
        raise DataFormatError(
            f"class {label!r} of the predicted scores is not a class index",
            hint="key the per-class scores by the class index (0, 1, 2, ...)",
        ) from None
