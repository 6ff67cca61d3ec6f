"""Score thresholds as FATE 1.11 picks them, and the confusion counts at any set of thresholds.

FATE predicts a sample positive when its score is strictly above a threshold. It samples thresholds
in four ways, kept here bit for bit because the drawn curves depend on them:

- by step: the distinct scores from high to low, taking the one at position ``int(size * cut)`` for
  ``cut`` in 0, 0.01, ..., 0.99 (lift, gain, precision, recall, binary accuracy);
- by index: the same over all scores, ties included, with cuts computed as ``c / 100`` (KS);
- fixed: 0, 0.01, ..., 0.99 regardless of the scores (confusion matrix, F1);
- by quantile: the scores' 0, 5, ..., 100 % quantiles, nearest rank (the quantile PR table).

Counting uses the sorted scores of each class and a binary search, so every threshold set costs
``O(n log n)`` once plus ``O(log n)`` per threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from accord.components.evaluation.inputs import BoolVector, FloatVector

IntVector = npt.NDArray[np.int64]

# FATE builds these cut lists in two different ways, which differ in the last bits of some cuts and
# so, for some sizes, in which sample ``int(size * cut)`` picks.
STEP_CUTS: FloatVector = np.arange(0, 1, 0.01)
INDEX_CUTS: FloatVector = (np.arange(100) / 100).astype(np.float64)
FIXED_THRESHOLDS: FloatVector = (np.arange(100) * 0.01).astype(np.float64)
QUANTILES: tuple[float, ...] = (*(round(i * 0.05, 3) for i in range(20)), 1.0)


@dataclass(frozen=True)
class ScoredLabels:
    """The scores of a binary task split by class and sorted, for counting above thresholds."""

    scores: FloatVector
    is_positive: BoolVector
    positive_scores: FloatVector
    negative_scores: FloatVector

    @classmethod
    def of(cls, scores: FloatVector, is_positive: BoolVector) -> ScoredLabels:
        return cls(
            scores=scores,
            is_positive=is_positive,
            positive_scores=np.sort(scores[is_positive]),
            negative_scores=np.sort(scores[~is_positive]),
        )

    @property
    def positives(self) -> int:
        return int(self.positive_scores.size)

    @property
    def negatives(self) -> int:
        return int(self.negative_scores.size)

    @property
    def total(self) -> int:
        return int(self.scores.size)

    def above(self, thresholds: FloatVector) -> tuple[IntVector, IntVector]:
        """True and false positives when samples scoring strictly above each threshold are positive."""
        tp = self.positives - np.searchsorted(self.positive_scores, thresholds, side="right")
        fp = self.negatives - np.searchsorted(self.negative_scores, thresholds, side="right")
        return tp.astype(np.int64), fp.astype(np.int64)


def step_thresholds(scores: FloatVector) -> FloatVector:
    """100 thresholds sampled from the distinct scores, high to low (FATE's ``cut_by_step``)."""
    distinct_high_to_low = np.unique(scores)[::-1]
    picks = (distinct_high_to_low.size * STEP_CUTS).astype(np.int64)
    return distinct_high_to_low[picks]


def index_thresholds(scores: FloatVector) -> FloatVector:
    """100 thresholds sampled from all scores, high to low (FATE's ``cut_by_index``)."""
    high_to_low = np.sort(scores)[::-1]
    picks = (high_to_low.size * INDEX_CUTS).astype(np.int64)
    return high_to_low[picks]


def quantile_thresholds(scores: FloatVector) -> FloatVector:
    """The 21 nearest-rank quantiles 0, 0.05, ..., 1 of the scores, low to high, repeats kept."""
    return np.sort(np.quantile(scores, QUANTILES, method="nearest"))


def roc_curve_points(data: ScoredLabels) -> tuple[FloatVector, FloatVector, FloatVector]:
    """The ROC curve as FATE 1.11 gets it from its scikit-learn 1.0: ``(fpr, tpr, thresholds)``.

    One point per distinct score, high to low (a sample is positive when its score is at least the
    threshold), without the points in the middle of a straight run, after a first point (0, 0) whose
    threshold is the highest score plus one.
    """
    high_to_low = np.sort(data.scores)[::-1]
    positives_high_to_low = np.sort(data.positive_scores)[::-1]
    # The last position of each run of equal scores, counted from the highest score.
    ends = np.append(np.flatnonzero(np.diff(high_to_low)), high_to_low.size - 1)
    thresholds = high_to_low[ends]
    # Positives scoring at least each threshold: a search in the sorted positive scores.
    tps = np.searchsorted(-positives_high_to_low, -thresholds, side="right").astype(np.float64)
    fps = (ends + 1) - tps
    if fps.size > 2:
        corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.concatenate(([True], corner, [True]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.concatenate(([0.0], fps))
    tps = np.concatenate(([0.0], tps))
    thresholds = np.concatenate(([thresholds[0] + 1], thresholds))
    return fps / fps[-1], tps / tps[-1], thresholds
