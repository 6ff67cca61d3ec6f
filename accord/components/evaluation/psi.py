"""The population stability index between the scores of a train and a validate data set (FATE 1.11).

The bins are cut at the distinct nearest-rank quantiles 0, 5, ..., 100 % of the train scores (the
lowest and highest score when they are all equal); each bin holds its left edge, the last one both
edges, and scores outside every bin are not counted. With ``e`` and ``a`` the train and validate share
of a bin (an empty bin counts 1e-6 samples), the bin's index is ``(a - e) * ln(a / e)`` and the PSI is
their sum.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from accord.components.evaluation import params as names
from accord.components.evaluation.inputs import (
    BoolVector,
    FloatVector,
    as_finite,
    check_same_length,
    positive_mask,
)
from accord.components.evaluation.result import JsonValue, MetricResult, table_result
from accord.components.evaluation.thresholds import IntVector, quantile_thresholds

# FATE counts an empty bin as this many samples so that the logarithm stays finite.
_EMPTY_BIN = 1e-6
_INTERVAL_DIGITS = 6


def psi(
    train_labels: npt.ArrayLike,
    train_scores: npt.ArrayLike,
    validate_labels: npt.ArrayLike,
    validate_scores: npt.ArrayLike,
    *,
    pos_label: int | float | str = 1,
) -> MetricResult:
    """PSI of the validate scores against the train scores, per bin and in total (``meta["total_psi"]``).

    Rows: ``left, right`` (the bin's edges), ``expected_count, expected_percentage`` (train),
    ``actual_count, actual_percentage`` (validate), ``psi`` (the bin's index) and
    ``train_pos_perc, validate_pos_perc`` (the share of positives among the bin's samples, 0 if empty).
    ``meta["intervals"]`` spells the bins as FATE does, e.g. ``"[0.1, 0.25)"``.
    """
    train = as_finite(train_scores, field="train scores")
    validate = as_finite(validate_scores, field="validate scores")
    train_positive = positive_mask(train_labels, pos_label)
    validate_positive = positive_mask(validate_labels, pos_label)
    check_same_length(train_positive, train, "train labels and train scores")
    check_same_length(validate_positive, validate, "validate labels and validate scores")

    edges = np.unique(quantile_thresholds(train))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    expected = _bin_counts(train, edges)
    actual = _bin_counts(validate, edges)
    expected_share = np.where(expected == 0, _EMPTY_BIN, expected) / train.size
    actual_share = np.where(actual == 0, _EMPTY_BIN, actual) / validate.size
    per_bin = (actual_share - expected_share) * np.log(actual_share / expected_share)
    total = float(per_bin.sum())

    return table_result(
        names.PSI,
        "PSI",
        {
            "left": edges[:-1],
            "right": edges[1:],
            "expected_count": expected,
            "expected_percentage": expected_share,
            "actual_count": actual,
            "actual_percentage": actual_share,
            "psi": per_bin,
            "train_pos_perc": _positive_share(train, train_positive, edges, expected),
            "validate_pos_perc": _positive_share(validate, validate_positive, edges, actual),
        },
        meta={"total_psi": total, "intervals": _interval_names(edges)},
    )


def _bin_of(scores: FloatVector, edges: FloatVector) -> IntVector:
    """The bin of each score, or -1 outside them; bins are [e0, e1), [e1, e2), ..., [e(k-1), ek]."""
    last = edges.size - 2
    bins = np.searchsorted(edges, scores, side="right") - 1
    bins = np.where(scores == edges[-1], last, bins)
    return np.where((bins < 0) | (bins > last), -1, bins).astype(np.int64)


def _bin_counts(scores: FloatVector, edges: FloatVector) -> IntVector:
    bins = _bin_of(scores, edges)
    return np.bincount(bins[bins >= 0], minlength=edges.size - 1).astype(np.int64)


def _positive_share(
    scores: FloatVector, is_positive: BoolVector, edges: FloatVector, counts: IntVector
) -> FloatVector:
    positives = _bin_counts(scores[is_positive], edges)
    return np.where(counts == 0, 0.0, positives / np.maximum(counts, 1))


def _interval_names(edges: FloatVector) -> list[JsonValue]:
    spelled: list[JsonValue] = []
    for index, (left, right) in enumerate(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True)):
        closing = "]" if index == edges.size - 2 else ")"
        spelled.append(f"[{round(left, _INTERVAL_DIGITS)}, {round(right, _INTERVAL_DIGITS)}{closing}")
    return spelled
