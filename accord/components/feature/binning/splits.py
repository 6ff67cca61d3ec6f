"""Split points of one column, and which bin each value falls in (FATE 1.11's semantics).

A column's split points are ascending, the last one its max; bin ``i`` holds the values in
``(split_points[i-1], split_points[i]]``: a value goes to the first bin whose split point is at
least the value, a value above the last split point to the last bin, and a missing value (NaN) to
a bin of its own after them, index ``len(split_points)``.

Quantile split points follow FATE's QuantileBinning: for ``bin_num`` bins it asks for the
quantiles ``1/bin_num, 2/bin_num, ..., 1`` and keeps each distinct answer once; the quantile ``p``
of ``N`` values is the value of rank ``ceil(p·N)``, the min for ``p <= error`` and the max for
``p >= 1 - error``. FATE answers from a Greenwald-Khanna summary whose rank is off by up to
``2·error·N``; here a partition keeps every ``floor(error·n)``-th of its sorted values (every value
when that is under 2), each weighted by the values it stands for, so a merged sketch's ranks are
off by less than ``error·N`` and a small ``error`` is exact.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from accord.errors import DataFormatError


@dataclass(frozen=True)
class Sketch:
    """Sorted sample values of one column and how many of the column's values each stands for."""

    values: np.ndarray
    weights: np.ndarray

    @property
    def count(self) -> int:
        return int(self.weights.sum())


def sketch(values: np.ndarray, error: float) -> Sketch:
    """The sketch of one partition's values of a column (NaN left out)."""
    present = np.sort(values[~np.isnan(values)])
    n = len(present)
    stride = max(1, math.floor(error * n))
    if n == 0 or stride == 1:
        return Sketch(present, np.ones(n, dtype=np.int64))
    # Keep the min and every stride-th value, and always the max; each kept value stands for the
    # values from the previous kept one (exclusive) up to itself.
    kept = np.unique(np.concatenate([[0], np.arange(stride - 1, n, stride), [n - 1]]))
    weights = np.diff(np.concatenate([[-1], kept]))
    return Sketch(present[kept], weights.astype(np.int64))


def merge_sketches(left: Sketch, right: Sketch) -> Sketch:
    values = np.concatenate([left.values, right.values])
    weights = np.concatenate([left.weights, right.weights])
    order = np.argsort(values, kind="stable")
    return Sketch(values[order], weights[order])


def quantile_split_points(column: Sketch, bin_num: int, error: float) -> list[float]:
    """FATE's quantile split points of the sketched column: distinct, ascending, the max last."""
    total = column.count
    if total == 0:
        return []
    cumulative = np.cumsum(column.weights)
    points: list[float] = []
    for k in range(1, bin_num + 1):
        rate = 1.0 if k == bin_num else k / bin_num
        if rate <= error:
            point = column.values[0]
        elif rate >= 1 - error:
            point = column.values[-1]
        else:
            rank = math.ceil(rate * total)
            point = column.values[
                min(int(np.searchsorted(cumulative, rank, side="left")), len(column.values) - 1)
            ]
        points.append(float(point))
    return [float(p) for p in np.unique(points)]


def bucket_split_points(low: float, high: float, bin_num: int) -> list[float]:
    """Equal-width split points (FATE's BucketBinning): ``low + k·(high-low)/bin_num``, then the max."""
    if math.isnan(low) or math.isnan(high):
        return []
    width = (high - low) / bin_num
    return [low + (k + 1) * width for k in range(bin_num - 1)] + [float(high)]


def category_split_points(values: np.ndarray) -> list[float]:
    """A category column's split points: each distinct value is a bin of its own."""
    present = values[~np.isnan(values)]
    return [float(v) for v in np.unique(present)]


def custom_split_points(points: Sequence[float], column: str, field: str) -> list[float]:
    """Split points given by the user, checked ascending (FATE bins with them as given)."""
    given = [float(p) for p in points]
    if not given:
        raise DataFormatError(
            f"{field} gives no split points for column {column!r}",
            hint="give at least one split point, e.g. [0.5, 1.0] (the last one bounds the last bin)",
        )
    if any(b <= a for a, b in itertools.pairwise(given)):
        raise DataFormatError(
            f"{field}: the split points of column {column!r} are not strictly ascending: {given}",
            hint="list each column's split points from smallest to largest, without repeats",
        )
    return given


def assign_bins(values: np.ndarray, split_points: Sequence[float]) -> np.ndarray:
    """The bin of each value: the first bin whose split point is >= the value (the last bin above
    the last point); a NaN goes to bin ``len(split_points)``."""
    points = np.asarray(split_points, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    # bisect_left over every split point but the last: values above them all land in the last bin.
    bins = np.searchsorted(points[:-1], values, side="left").astype(np.int64)
    bins[np.isnan(values)] = len(points)
    return bins


def bin_totals(bins: np.ndarray, bin_count: int) -> np.ndarray:
    """Rows per bin, the missing bin (index ``bin_count``) last."""
    return np.bincount(bins, minlength=bin_count + 1)[: bin_count + 1]


def merge_bins(counts: np.ndarray, kept: Sequence[int]) -> np.ndarray:
    """Counts of initial bins (rows; axis 0) summed into the merged bins that end at ``kept``."""
    starts = [0] + [index + 1 for index in kept[:-1]]
    return np.add.reduceat(np.asarray(counts), starts, axis=0)
