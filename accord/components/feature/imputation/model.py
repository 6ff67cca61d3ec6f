"""What FeatureImputation learns and applies: which cells are missing, and each column's fill value.

A cell is missing when it is NaN and missing_impute is not given (FATE's default list, whose NaN entry
is what matches a parsed feature), or when it equals a number of missing_impute (``[0]`` imputes the
zeros). FATE compares feature numbers with the list's items as they are, so a text item or null
matches no feature cell; that is kept (and logged by the component).

Fill values per column, as FATE's Imputer: min, max or mean of the column's cells that are neither
missing nor NaN; designated: default_value (one number, or the list's entry at the column's index).
A column with no method is skipped: its cells are kept as they are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.feature.imputation.params import FeatureImputationParam
from accord.errors import ComponentParameterError, DataFormatError, DataMismatchError

MODULE = "FeatureImputation"
# FATE's Imputer's default missing list (its NaN entry written as null: JSON has no NaN).
DEFAULT_MISSING: list[Any] = ["", "none", "null", "na", "None", None]


@dataclass(frozen=True)
class Matcher:
    """The cells that count as missing: NaN cells (``nan``) and cells equal to one of ``numbers``."""

    nan: bool
    numbers: tuple[float, ...]

    @classmethod
    def of(cls, missing_impute: Sequence[Any] | None) -> Matcher:
        if missing_impute is None:
            return cls(True, ())
        numbers = [float(item) for item in missing_impute if isinstance(item, int | float)]
        return cls(any(math.isnan(n) for n in numbers), tuple(n for n in numbers if not math.isnan(n)))

    def mask(self, values: np.ndarray) -> np.ndarray:
        found = np.isnan(values) if self.nan else np.zeros(values.shape, dtype=bool)
        if self.numbers:
            found |= np.isin(values, self.numbers)
        return found


def ignored_items(missing_impute: Sequence[Any] | None) -> list[Any]:
    """The items of missing_impute that can match no feature cell (text, null), for the log."""
    return [item for item in missing_impute or [] if not isinstance(item, int | float)]


def column_methods(
    params: FeatureImputationParam, header: Sequence[str], component: str
) -> dict[str, str | None]:
    """Each column's fill method: its own from col_missing_fill_method, else missing_fill_method."""
    given = params.col_missing_fill_method or {}
    unknown = sorted(set(given) - set(header))
    if unknown:
        raise ComponentParameterError(
            f"{component}: col_missing_fill_method names columns {unknown[:10]} that are not in this "
            "party's header",
            hint="name columns of this party only (set col_missing_fill_method per role)",
            component=component,
        )
    return {name: given.get(name, params.missing_fill_method) for name in header}


def _number(value: Any, where: str, component: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ComponentParameterError(
            f"{component}: {where} is {value!r}, not a number; feature cells are numbers",
            hint="give default_value as a number (or a list of numbers, one per feature column)",
            component=component,
        ) from None


def designated(params: FeatureImputationParam, header: Sequence[str], component: str) -> list[float]:
    """default_value for each column (a list is indexed by column)."""
    value = params.default_value
    if isinstance(value, list):
        if len(value) != len(header):
            raise ComponentParameterError(
                f"{component}: default_value has {len(value)} values for {len(header)} feature columns",
                hint="give one number, or a list with one per feature column of this party",
                component=component,
            )
        return [_number(item, f"default_value[{i}]", component) for i, item in enumerate(value)]
    if value is None:
        raise ComponentParameterError(
            f"{component}: the designated method needs default_value, and it is null",
            hint="set default_value to the number that replaces missing cells",
            component=component,
        )
    return [_number(value, "default_value", component)] * len(header)


def fill_values(
    methods: Mapping[str, str | None],
    given: Sequence[float] | None,
    count: np.ndarray,
    total: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> list[float]:
    """Each column's fill value from its method and the column's non-missing cells (0 when skipped)."""
    values = []
    for j, method in enumerate(methods.values()):
        if method is None:
            values.append(0.0)
        elif method == "designated":
            assert given is not None  # designated values are resolved before
            values.append(given[j])
        elif method == "min":
            values.append(float(low[j]) if count[j] else math.nan)
        elif method == "max":
            values.append(float(high[j]) if count[j] else math.nan)
        else:
            values.append(float(total[j] / count[j]) if count[j] else math.nan)
    return values


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def build(
    params: FeatureImputationParam,
    header: Sequence[str],
    methods: Mapping[str, str | None],
    fills: Sequence[float],
    rates: Sequence[float],
) -> dict[str, Any]:
    skip = [name for name in header if methods[name] is None]
    return {
        "module": MODULE,
        "header": list(header),
        "missing_impute": params.missing_impute,
        "fill_values": {
            name: _json_number(fills[j]) for j, name in enumerate(header) if methods[name] is not None
        },
        "cols_replace_method": {name: str(methods[name]) for name in header},
        "skip_cols": skip,
        "missing_value_ratio": dict(zip(header, rates, strict=True)),
        "need_run": params.need_run,
    }


def summary(model: Mapping[str, Any], fills: Sequence[float]) -> dict[str, Any]:
    """FATE's summary: the missing values, each column's fill value and impute rate, skipped columns."""
    header = model["header"]
    missing = model["missing_impute"]
    return {
        "missing_value": list(DEFAULT_MISSING if missing is None else missing),
        "missing_impute_value": {name: _json_number(fills[j]) for j, name in enumerate(header)},
        "missing_impute_rate": model["missing_value_ratio"],
        "skip_cols": model["skip_cols"],
    }


def check(model: Mapping[str, Any], component: str) -> dict[str, Any]:
    if model.get("module") != MODULE or "fill_values" not in model:
        raise DataMismatchError(
            f"{component} was given a model that is not a FeatureImputation model",
            hint="wire in the model output of a FeatureImputation component",
        )
    return dict(model)


def apply(
    fill: Mapping[str, float | None], matcher: Matcher, header: Sequence[str], features: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``features`` (rows by ``header``) with the missing cells of the filled columns replaced, and how
    many cells were replaced in each column."""
    position = {name: index for index, name in enumerate(header)}
    absent = [name for name in fill if name not in position]
    if absent:
        raise DataFormatError(
            f"the rows have no columns {absent[:10]}, which the imputation model fills",
            hint="impute data with the same header as the data the model was trained on",
        )
    result = features.copy()
    replaced = np.zeros(len(header), dtype=np.int64)
    for name, value in fill.items():
        j = position[name]
        hit = matcher.mask(features[:, j])
        result[hit, j] = math.nan if value is None else value
        replaced[j] = int(hit.sum())
    return result, replaced
