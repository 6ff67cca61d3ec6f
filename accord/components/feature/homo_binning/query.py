"""FATE 1.11's two ways to read global quantiles off global ranks, as pure functions.

A column's rank of a value v is the number of its non-missing values <= v, summed over the clients.
N is the row count over the clients and M the column's missing count over the clients.

virtual_summary: the query values are ``linspace(min, max, sample_bins)``; for each quantile
``k/bin_num`` (k = 1..bin_num, the last one 1.0) the aim is ``int(rate·(N - M))``; i is the first
query value whose rank is >= the aim (bisect_left). The split point is the last query value when i
is the last or beyond; the query value i when values i and i+1 (or their ranks) are within 1e-8;
else ``q[i] + (q[i+1] - q[i])·(aim - r[i]) / (r[i+1] - r[i])``, FATE's formula (the aim is at most
r[i], so the point lies at or below q[i]). The distinct points, ascending.

recursive_query: one query value per quantile, starting at ``linspace(min, max, bin_num+1)[1:]``
with bounds (min, max), aiming at rank ``floor(k/bin_num·(N - M))``. Each round a value whose rank
is more than ``ceil(error·N)`` above its aim moves halfway to its lower bound (its old value becomes
the upper bound), more than that below moves halfway to its upper bound (its old value becomes the
lower bound), within it is fixed; a move of at most 0.9e-8 instead nudges the value by 0.9e-8 and
fixes it. Rounds stop when every value of every column is fixed, or after max_iter. The points:
the distinct values, ascending, with values within 1e-8 of 0 as 0 and values within 1e-8 of the
previous one dropped.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

FLOAT_ZERO = 1e-8
_NUDGE = FLOAT_ZERO * 0.9


def virtual_queries(low: float, high: float, sample_bins: int) -> np.ndarray:
    if not math.isfinite(low) or not math.isfinite(high):
        return np.zeros(0)
    return np.linspace(low, high, sample_bins)


def virtual_split_points(queries: np.ndarray, ranks: np.ndarray, bin_num: int, present: int) -> list[float]:
    """FATE's virtual-summary split points of one column from its global ranks at ``queries``."""
    if queries.size == 0:
        return []
    rates = [k / bin_num for k in range(1, bin_num)] + [1.0]
    found: list[float] = []
    ranks_list = [float(r) for r in ranks]
    for rate in rates:
        aim = int(rate * present)
        i = bisect.bisect_left(ranks_list, aim)
        if i >= len(ranks_list) - 1:
            found.append(float(queries[-1]))
        elif abs(queries[i + 1] - queries[i]) < FLOAT_ZERO or abs(ranks[i + 1] - ranks[i]) < FLOAT_ZERO:
            found.append(float(queries[i]))
        else:
            step = (aim - ranks[i]) / (ranks[i + 1] - ranks[i])
            found.append(float(queries[i] + (queries[i + 1] - queries[i]) * step))
    return sorted(set(found))


@dataclass
class Nodes:
    """One column's recursive-query values, their bounds, aims and whether each is fixed."""

    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    aim: np.ndarray
    fixed: np.ndarray

    @classmethod
    def start(cls, low: float, high: float, bin_num: int, present: int) -> Nodes:
        if not math.isfinite(low) or not math.isfinite(high):
            empty = np.zeros(0)
            return cls(empty, empty, empty, empty, np.zeros(0, dtype=bool))
        value = np.linspace(low, high, bin_num + 1)[1:]
        aim = np.floor(np.linspace(0, 1, bin_num + 1)[1:] * present)
        count = value.size
        return cls(value, np.full(count, low), np.full(count, high), aim, np.zeros(count, dtype=bool))

    def update(self, ranks: np.ndarray, allowed: float) -> None:
        """One round: move or fix each value from its global rank."""
        for i in range(self.value.size):
            if self.fixed[i]:
                continue
            rank = float(ranks[i])
            if rank - self.aim[i] > allowed:
                self._move(i, float(self.low[i]), lower=True)
            elif self.aim[i] - rank > allowed:
                self._move(i, float(self.high[i]), lower=False)
            else:
                self.fixed[i] = True

    def _move(self, i: int, bound: float, *, lower: bool) -> None:
        old = float(self.value[i])
        new = (old + bound) / 2
        if abs(new - old) <= _NUDGE:
            self.value[i] = old + _NUDGE
            self.fixed[i] = True
            return
        if lower:
            self.high[i] = old
        else:
            self.low[i] = old
        self.value[i] = new

    @property
    def done(self) -> bool:
        return bool(np.all(self.fixed))

    def split_points(self) -> list[float]:
        points = sorted({float(v) for v in self.value})
        if not points:
            return []
        kept = [points[0] if abs(points[0]) > FLOAT_ZERO else 0.0]
        last = points[0]
        for value in points[1:]:
            if abs(value) < FLOAT_ZERO:
                value = 0.0
            if abs(value - last) > FLOAT_ZERO:
                kept.append(value)
            last = value
        return kept
