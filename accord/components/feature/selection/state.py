"""What a filter sees and decides, and the rules FATE's filters share.

A filter runs on the *selected* columns that are still left (``select``); columns never selected pass
every filter. After a filter, the columns left become the next filter's ``last_left`` and the selected
columns it kept become the next ``select`` (FATE's SelectionProperties and update_curt_select_param).
The threshold / top-k / top-percentile rules and "keep one feature" follow FATE's IsoModelFilter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Selection:
    """One filter's view of one party's columns (or, on the guest, of a host's anonymous columns)."""

    header: list[str]
    last_left: list[int]
    select: list[int]
    left: list[int] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls, header: Sequence[str], select: Sequence[int]) -> Selection:
        return cls(list(header), list(range(len(header))), list(dict.fromkeys(select)))

    @property
    def select_names(self) -> list[str]:
        return [self.header[i] for i in self.select]

    @property
    def left_names(self) -> list[str]:
        return [self.header[i] for i in self.left]

    def keep(self, name: str) -> None:
        index = self.header.index(name)
        if index not in self.left:
            self.left.append(index)

    @property
    def all_left(self) -> list[int]:
        """Columns left after this filter: those it did not look at and those it kept."""
        looked, kept = set(self.select), set(self.left)
        return [i for i in self.last_left if i not in looked or i in kept]

    @property
    def all_left_names(self) -> list[str]:
        return [self.header[i] for i in self.all_left]

    def next(self) -> Selection:
        """The view of the filter that follows: it looks only at the selected columns this one kept."""
        return Selection(self.header, self.all_left, list(self.left))

    def keep_one(self, pick_high: bool) -> None:
        """If the filter dropped every selected column, keep the one with the best value (FATE)."""
        if self.left or not self.select:
            return
        if self.values:
            # Python's sort is stable also in reverse: among equal values the first listed wins.
            ranked = sorted(self.values.items(), key=lambda item: item[1], reverse=pick_high)
            self.keep(ranked[0][0])
        else:
            # FATE picks at random here; the first selected column keeps runs reproducible.
            self.keep(self.header[self.select[0]])

    def result(self, name: str) -> dict[str, Any]:
        """This filter's entry in the model, as FATE's FeatureSelectionFilterParam lays it out."""
        kept = set(self.all_left)
        return {
            "filter_name": name,
            "feature_values": {k: _plain(v) for k, v in self.values.items()},
            "left_cols": {
                "original_cols": [self.header[i] for i in self.last_left],
                "left_cols": {self.header[i]: i in kept for i in self.last_left},
            },
        }


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    # A model is plain JSON: a value that is not a finite number (a statistic of a column with no
    # values) is kept as null.
    number = float(value)
    return number if math.isfinite(number) else None


def threshold_pick(values: Sequence[float], thresholds: Sequence[float], take_high: bool) -> set[int]:
    """Indexes of the values at or beyond their threshold (>= when taking high, <= otherwise)."""
    if take_high:
        return {i for i, v in enumerate(values) if v >= thresholds[i]}
    return {i for i, v in enumerate(values) if v <= thresholds[i]}


def top_k_pick(values: Sequence[float], k: int, take_high: bool) -> set[int]:
    """The ``k`` highest (or lowest) values; a stable sort decides ties (FATE's numpy argsort)."""
    order = np.argsort(np.asarray(values, dtype=np.float64), kind="stable")
    ranked = order[::-1] if take_high else order
    return {int(i) for i in ranked[: max(int(k), 0)]}


def percentile_pick(values: Sequence[float], share: float, take_high: bool) -> set[int]:
    """The top ``ceil(share * n)`` values, as FATE's _percentile_fit counts them."""
    return top_k_pick(values, math.ceil(share * len(values)), take_high)


def pick(
    values: Sequence[float],
    filter_type: str,
    threshold: float,
    take_high: bool,
    thresholds: Sequence[float] | None = None,
) -> set[int]:
    if filter_type == "threshold":
        return threshold_pick(values, thresholds or [threshold] * len(values), take_high)
    if filter_type == "top_k":
        return top_k_pick(values, int(threshold), take_high)
    return percentile_pick(values, threshold, take_high)
