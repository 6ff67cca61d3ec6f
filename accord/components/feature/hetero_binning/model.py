"""What HeteroFeatureBinning learns, as the JSON model of the lead's contract, and the columns it bins.

Columns follow FATE's BinInnerParam: ``bin_indexes`` -1 bins every column, a list bins those indexes
(one beyond the header is an error) and ``bin_names`` (unknown names are skipped); category columns
(``category_indexes`` / ``category_names``, unknown ones skipped) are binned by their values and
leave the numeric bins; ``transform_cols`` -1 transforms every binned and category column, a list
those indexes plus ``transform_names`` (either unknown is an error).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accord.components.feature.binning import woe
from accord.components.feature.hetero_binning.params import HeteroFeatureBinningParam
from accord.errors import ComponentParameterError, DataMismatchError

MODULE = "HeteroFeatureBinning"


@dataclass(frozen=True)
class Columns:
    header: tuple[str, ...]
    bin_cols: list[int]
    category_cols: list[int]
    transform_cols: list[int]

    @property
    def binned(self) -> list[int]:
        """Every column with split points (numeric and category), in header order."""
        return sorted(self.bin_cols + self.category_cols)

    def names(self, indexes: Sequence[int]) -> list[str]:
        return [self.header[i] for i in indexes]


def _bad(component: str, field: str, problem: str, hint: str) -> ComponentParameterError:
    return ComponentParameterError(
        f"{component}: {field} {problem}", hint=hint, component=component, field=field
    )


def choose_columns(params: HeteroFeatureBinningParam, header: Sequence[str], component: str) -> Columns:
    position = {name: i for i, name in enumerate(header)}
    width = len(header)
    if params.bin_indexes == -1:
        chosen = set(range(width))
    else:
        indexes = params.bin_indexes if isinstance(params.bin_indexes, list) else []
        beyond = sorted(i for i in indexes if i >= width)
        if beyond:
            raise _bad(
                component,
                "bin_indexes",
                f"{beyond} are beyond this party's {width} columns",
                f"use indexes 0 to {width - 1}, set per role when the parties differ, or -1",
            )
        chosen = set(indexes) | {position[n] for n in params.bin_names or [] if n in position}
    category = {i for i in params.category_indexes or [] if i < width}
    category |= {position[n] for n in params.category_names or [] if n in position}
    bin_cols = sorted(chosen - category)
    transform = params.transform_param
    if transform.transform_cols == -1:
        transform_cols = sorted(chosen | category)
    else:
        cols = transform.transform_cols if isinstance(transform.transform_cols, list) else []
        wrong = sorted(i for i in cols if not 0 <= i < width)
        if wrong:
            raise _bad(
                component,
                "transform_param.transform_cols",
                f"{wrong} are not among this party's {width} columns",
                f"use indexes 0 to {width - 1}, or -1 for the binned columns",
            )
        unknown = [n for n in transform.transform_names or [] if n not in position]
        if unknown:
            raise _bad(
                component,
                "transform_param.transform_names",
                f"{unknown[:10]} are not in the header",
                f"name columns of this party's header ({', '.join(list(header)[:8])}...)",
            )
        transform_cols = sorted(set(cols) | {position[n] for n in transform.transform_names or []})
    if transform.transform_type is not None:
        unbinned = [header[i] for i in transform_cols if i not in chosen | category]
        if unbinned:
            raise _bad(
                component,
                "transform_param.transform_cols",
                f"names columns that are not binned: {unbinned[:10]}",
                "transform only columns chosen by bin_indexes / bin_names / category",
            )
    return Columns(tuple(header), bin_cols, sorted(category), transform_cols)


def custom_points(
    params: HeteroFeatureBinningParam, columns: Columns, component: str
) -> dict[str, list[float]]:
    """The user's split points by column name (split_points_by_index and split_points_by_col_name)."""
    header = columns.header
    given: dict[str, list[float]] = {}
    for key, points in (params.split_points_by_index or {}).items():
        index = int(key)
        if index >= len(header):
            raise _bad(
                component,
                "split_points_by_index",
                f"has index {index}, beyond this party's {len(header)} columns",
                f"use indexes 0 to {len(header) - 1}",
            )
        given[header[index]] = points
    for name, points in (params.split_points_by_col_name or {}).items():
        if name in given:
            raise _bad(
                component,
                "split_points_by_col_name",
                f"gives {name!r} again, already given by index",
                "give each column's split points once",
            )
        if name not in header:
            raise _bad(
                component,
                "split_points_by_col_name",
                f"names {name!r}, not in this party's header",
                "set split points per role: each party names its own columns",
            )
        given[name] = points
    missing = [header[i] for i in columns.bin_cols if header[i] not in given]
    if missing:
        raise _bad(
            component,
            "split_points_by_col_name",
            f"has no split points for binned columns {missing[:10]}",
            "give split points for every binned column, or bin fewer columns (bin_indexes / bin_names)",
        )
    return given


def label_key(label: float) -> str:
    """A label as the model's keys spell it: ``1`` rather than ``1.0``."""
    return str(int(label)) if float(label).is_integer() else str(label)


def event_order(labels: Sequence[float]) -> list[float]:
    """The labels in FATE's order: for two labels the event (1, else the larger) first; else ascending."""
    ordered = sorted(labels)
    if len(ordered) == 2:
        event = 1.0 if 1.0 in ordered else ordered[-1]
        return [event] + [v for v in ordered if v != event]
    return ordered


def col_result(
    events: np.ndarray, totals: np.ndarray, adjustment_factor: float, split_points: Sequence[float] | None
) -> dict[str, Any]:
    """One column's ColResult from its per-bin events and rows (the missing bin last, kept if used)."""
    bins = len(totals) - 1
    keep = bins + 1 if totals[bins] > 0 else bins
    result = woe.woe_iv(events[:keep], (totals - events)[:keep], adjustment_factor)
    result["bin_nums"] = bins
    if split_points is not None:
        result = {"split_points": [float(p) for p in split_points], **result}
    return result


def counts_only(totals: np.ndarray, split_points: Sequence[float]) -> dict[str, Any]:
    """A ColResult without label statistics (skip_static, or a host that never sees labels)."""
    bins = len(split_points)
    keep = bins + 1 if len(totals) > bins and totals[bins] > 0 else bins
    return {
        "split_points": [float(p) for p in split_points],
        "count": [int(c) for c in totals[:keep]],
        "bin_nums": bins,
    }


def base_model(
    params: HeteroFeatureBinningParam, columns: Columns, split_points: Mapping[str, Sequence[float]]
) -> dict[str, Any]:
    return {
        "module": MODULE,
        "method": params.method,
        "header": list(columns.header),
        "bin_cols": columns.names(columns.bin_cols),
        "category_cols": columns.names(columns.category_cols),
        "labels": None,
        "results": {},
        "split_points": {name: [float(p) for p in points] for name, points in split_points.items()},
        "transform": {
            "transform_type": params.transform_param.transform_type,
            "transform_cols": columns.names(columns.transform_cols),
        },
        "skip_static": params.skip_static,
        "local_only": params.local_only,
        "need_run": params.need_run,
        "adjustment_factor": params.adjustment_factor,
    }


def check_model(model: Mapping[str, Any], component: str) -> None:
    if model.get("module") != MODULE or not isinstance(model.get("split_points"), dict):
        raise DataMismatchError(
            f"{component} was given a model that is not a HeteroFeatureBinning model",
            hint="wire in the model output of a HeteroFeatureBinning component",
        )
