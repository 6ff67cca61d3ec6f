"""A client's passes over its rows: per-column counts and ranges, ranks at query values, rows per bin.

Every function handed to the engine is module level; ``meta`` is the table's dataset meta and
``columns`` the feature indexes a pass looks at.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.feature.binning import splits
from accord.components.feature.binning.blocks import rows_of
from accord.components.sdk import DataTable
from accord.computing import Block

# Per column: non-missing count, min, max (rows: count, min, max).
Stats = np.ndarray


def _values(meta: Mapping[str, Any], columns: Sequence[int], block: Block) -> np.ndarray:
    values: np.ndarray = rows_of(meta, block).features()[:, list(columns)]
    return values


def _stats_pass(meta: Mapping[str, Any], columns: Sequence[int], block: Block) -> Stats:
    values = _values(meta, columns, block)
    present = (~np.isnan(values)).sum(axis=0).astype(np.float64)
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(values, axis=0, initial=np.inf)
        high = np.fmax.reduce(values, axis=0, initial=-np.inf)
    return np.stack([present, low, high])


def _merge_stats(left: Stats | None, right: Stats | None) -> Stats | None:
    if left is None or right is None:
        return right if left is None else left
    return np.stack([left[0] + right[0], np.fmin(left[1], right[1]), np.fmax(left[2], right[2])])


def column_stats(data: DataTable, columns: Sequence[int]) -> Stats:
    """Rows: each column's non-missing count, min and max (inf / -inf for a column with no value)."""
    nothing: Stats | None = None
    found = data.table.aggregate(
        nothing, functools.partial(_stats_pass, data.meta(), list(columns)), _merge_stats
    )
    if found is None:
        count = len(columns)
        return np.stack([np.zeros(count), np.full(count, np.inf), np.full(count, -np.inf)])
    return found


def _rank_pass(
    meta: Mapping[str, Any], columns: Sequence[int], queries: Sequence[Sequence[float]], block: Block
) -> list[np.ndarray]:
    values = _values(meta, columns, block)
    found = []
    for k, points in enumerate(queries):
        column = np.sort(values[~np.isnan(values[:, k]), k])
        found.append(np.searchsorted(column, np.asarray(points, dtype=np.float64), side="right"))
    return found


def _add(left: list[np.ndarray] | None, right: list[np.ndarray] | None) -> list[np.ndarray] | None:
    if left is None or right is None:
        return right if left is None else left
    return [a + b for a, b in zip(left, right, strict=True)]


def local_ranks(data: DataTable, columns: Sequence[int], queries: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Per column, how many of this client's values are <= each query value (exact counts)."""
    nothing: list[np.ndarray] | None = None
    part = functools.partial(_rank_pass, data.meta(), list(columns), [[float(v) for v in q] for q in queries])
    found = data.table.aggregate(nothing, part, _add)
    return found if found is not None else [np.zeros(len(q), dtype=np.int64) for q in queries]


def _bins_pass(
    meta: Mapping[str, Any], columns: Sequence[int], points: Sequence[Sequence[float]], block: Block
) -> list[np.ndarray]:
    values = _values(meta, columns, block)
    return [
        splits.bin_totals(splits.assign_bins(values[:, k], sp), len(sp))
        if sp
        else np.zeros(1, dtype=np.int64)
        for k, sp in enumerate(points)
    ]


def rows_per_bin(
    data: DataTable, columns: Sequence[int], points: Sequence[Sequence[float]]
) -> list[np.ndarray]:
    """Per column, this client's rows in each bin, the missing bin last."""
    nothing: list[np.ndarray] | None = None
    part = functools.partial(_bins_pass, data.meta(), list(columns), [list(p) for p in points])
    found = data.table.aggregate(nothing, part, _add)
    return found if found is not None else [np.zeros(len(p) + 1, dtype=np.int64) for p in points]
