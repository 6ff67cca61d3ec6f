"""The result of one metric on one data set, in a shape the tracker can store as JSON.

A ``MetricResult`` carries:

- ``name``: FATE's metric name (``auc``, ``ks``, ``precision``...);
- ``metric_type``: FATE's metric type for what is drawn (``ROC_EVALUATION``, ``KS_EVALUATION``,
  ``PRECISION_BINARY_EVALUATION``, ``CONFUSION_MAT``...) or ``EVALUATION_SUMMARY`` for a metric that is
  a single value only;
- ``value``: the single number FATE puts in the evaluation summary (``auc``, ``ks``, the regression
  errors, multi-class accuracy and the macro mean of multi-class precision and recall), else ``None``;
- ``columns`` and ``points``: a curve or table as rows of numbers, ``columns`` naming each position of a
  row (for example ``("fpr", "tpr", "threshold")``), rows in the order FATE draws them;
- ``meta``: a small JSON-able dict (FATE's axis names, counts, the class list...).

Values are full precision; FATE rounds to six decimals when it saves, which ``rounded()`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None

# FATE's Evaluation rounds every saved number to this many decimals.
ROUND_DIGITS = 6

EVALUATION_SUMMARY = "EVALUATION_SUMMARY"


@dataclass(frozen=True)
class MetricResult:
    name: str
    metric_type: str
    value: float | None = None
    columns: tuple[str, ...] = ()
    points: tuple[tuple[float, ...], ...] = ()
    meta: Mapping[str, JsonValue] = field(default_factory=dict)

    def column(self, name: str) -> list[float]:
        """The values of one column of ``points``, in row order."""
        index = self.columns.index(name)
        return [row[index] for row in self.points]

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "name": self.name,
            "metric_type": self.metric_type,
            "value": self.value,
            "columns": list(self.columns),
            "points": [list(row) for row in self.points],
            "meta": dict(self.meta),
        }

    def rounded(self, digits: int = ROUND_DIGITS) -> MetricResult:
        """A copy with every float rounded as FATE saves it (integers such as counts stay as they are)."""
        return MetricResult(
            name=self.name,
            metric_type=self.metric_type,
            value=None if self.value is None else _round(self.value, digits),
            columns=self.columns,
            points=tuple(tuple(_round(v, digits) for v in row) for row in self.points),
            meta={key: _round_json(v, digits) for key, v in self.meta.items()},
        )


def _round(number: float, digits: int) -> float:
    return number if isinstance(number, int) else float(np.round(number, digits))


def _round_json(value: JsonValue, digits: int) -> JsonValue:
    if isinstance(value, float):
        return _round(value, digits)
    if isinstance(value, list):
        return [_round_json(item, digits) for item in value]
    if isinstance(value, dict):
        return {key: _round_json(item, digits) for key, item in value.items()}
    return value


def value_result(name: str, value: float, *, meta: Mapping[str, JsonValue] | None = None) -> MetricResult:
    """A metric that is a single number (FATE's ``EVALUATION_SUMMARY``)."""
    return MetricResult(name=name, metric_type=EVALUATION_SUMMARY, value=float(value), meta=dict(meta or {}))


def table_result(
    name: str,
    metric_type: str,
    columns: Mapping[str, npt.ArrayLike],
    *,
    value: float | None = None,
    meta: Mapping[str, JsonValue] | None = None,
) -> MetricResult:
    """A curve or table from equally long columns (numpy arrays become plain Python numbers)."""
    lists: list[Sequence[Any]] = [np.asarray(values).tolist() for values in columns.values()]
    lengths = {len(values) for values in lists}
    if len(lengths) > 1:
        raise ValueError(f"columns of {name} differ in length: {sorted(lengths)}")
    return MetricResult(
        name=name,
        metric_type=metric_type,
        value=None if value is None else float(value),
        columns=tuple(columns),
        points=tuple(tuple(row) for row in zip(*lists, strict=True)),
        meta=dict(meta or {}),
    )
