"""Binning passes over a block table: each runs per partition and combines small per-column results.

Every function handed to the engine is module level (it runs in other processes); ``meta`` is the
table's dataset meta and ``columns`` the feature indexes a pass looks at.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.feature.binning import splits
from accord.components.sdk import Dataset, DataTable
from accord.computing import Block
from accord.errors import DataFormatError

Counts = list[np.ndarray]


def rows_of(meta: Mapping[str, Any], block: Block) -> Dataset:
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    return Dataset.of(pa.Table.from_batches([block]), meta)


def _features(meta: Mapping[str, Any], columns: Sequence[int], block: Block) -> np.ndarray:
    values: np.ndarray = rows_of(meta, block).features()[:, list(columns)]
    return values


# ---- split points ---------------------------------------------------------------------------


def _sketch_pass(meta: Mapping[str, Any], columns: Sequence[int], error: float, block: Block) -> list[Any]:
    values = _features(meta, columns, block)
    return [splits.sketch(values[:, k], error) for k in range(len(columns))]


def _merge_sketch_lists(left: list[Any] | None, right: list[Any] | None) -> list[Any] | None:
    if left is None or right is None:
        return right if left is None else left
    return [splits.merge_sketches(a, b) for a, b in zip(left, right, strict=True)]


def _range_pass(meta: Mapping[str, Any], columns: Sequence[int], block: Block) -> np.ndarray:
    values = _features(meta, columns, block)
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(values, axis=0, initial=np.inf)
        high = np.fmax.reduce(values, axis=0, initial=-np.inf)
    return np.stack([low, high])


def _merge_ranges(left: np.ndarray | None, right: np.ndarray | None) -> np.ndarray | None:
    if left is None or right is None:
        return right if left is None else left
    return np.stack([np.fmin(left[0], right[0]), np.fmax(left[1], right[1])])


def _unique_pass(meta: Mapping[str, Any], columns: Sequence[int], block: Block) -> list[np.ndarray]:
    values = _features(meta, columns, block)
    return [np.unique(values[~np.isnan(values[:, k]), k]) for k in range(len(columns))]


def _merge_uniques(left: list[np.ndarray] | None, right: list[np.ndarray] | None) -> list[np.ndarray] | None:
    if left is None or right is None:
        return right if left is None else left
    return [np.union1d(a, b) for a, b in zip(left, right, strict=True)]


def quantile_points(data: DataTable, columns: Sequence[int], bin_num: int, error: float) -> list[list[float]]:
    """FATE's quantile split points of each column, from per-partition sketches."""
    if not columns:
        return []
    nothing: list[Any] | None = None
    found = data.table.aggregate(
        nothing, functools.partial(_sketch_pass, data.meta(), list(columns), error), _merge_sketch_lists
    )
    sketches = found or [splits.Sketch(np.zeros(0), np.zeros(0, dtype=np.int64)) for _ in columns]
    return [splits.quantile_split_points(s, bin_num, error) for s in sketches]


def bucket_points(data: DataTable, columns: Sequence[int], bin_num: int) -> list[list[float]]:
    """Equal-width split points of each column between its min and max."""
    if not columns:
        return []
    nothing: np.ndarray | None = None
    found = data.table.aggregate(
        nothing, functools.partial(_range_pass, data.meta(), list(columns)), _merge_ranges
    )
    if found is None:
        return [[] for _ in columns]
    low, high = found
    return [
        splits.bucket_split_points(float(lo), float(hi), bin_num) if np.isfinite(lo) else []
        for lo, hi in zip(low, high, strict=True)
    ]


def category_points(data: DataTable, columns: Sequence[int]) -> list[list[float]]:
    """Each category column's distinct values."""
    if not columns:
        return []
    nothing: list[np.ndarray] | None = None
    found = data.table.aggregate(
        nothing, functools.partial(_unique_pass, data.meta(), list(columns)), _merge_uniques
    )
    return [splits.category_split_points(u) for u in found] if found else [[] for _ in columns]


# ---- labels and counts per bin ----------------------------------------------------------------


def _label_pass(block: Block) -> dict[float, int]:
    if isinstance(block, bytes) or "label" not in block.schema.names:
        return {}
    labels = np.asarray(block.column("label").to_numpy(zero_copy_only=False), dtype=np.float64)
    found, counts = np.unique(labels, return_counts=True)
    return {float(v): int(c) for v, c in zip(found, counts, strict=True)}


def _merge_label_counts(left: dict[float, int], right: dict[float, int]) -> dict[float, int]:
    merged = dict(left)
    for label, count in right.items():
        merged[label] = merged.get(label, 0) + count
    return merged


def label_counts(data: DataTable) -> dict[float, int]:
    """How many rows carry each label value."""
    found: dict[float, int] = data.table.aggregate({}, _label_pass, _merge_label_counts)
    return found


def _counts_pass(
    meta: Mapping[str, Any],
    columns: Sequence[int],
    points: Sequence[Sequence[float]],
    labels: Sequence[float],
    block: Block,
) -> Counts:
    rows = rows_of(meta, block)
    values = rows.features()[:, list(columns)]
    row_labels = rows.labels()
    if row_labels is None:
        raise DataFormatError(
            "the rows have no label column", hint="read the guest's data with with_label true"
        )
    # Each row's label as its position in ``labels`` (the one-hot column it adds 1 to).
    label_index = np.searchsorted(np.asarray(labels), row_labels)
    result = []
    for k, sp in enumerate(points):
        bins = splits.assign_bins(values[:, k], sp)
        grid = np.zeros((len(sp) + 1, len(labels)), dtype=np.int64)
        np.add.at(grid, (bins, label_index), 1)
        result.append(grid)
    return result


def _add_counts(left: Counts | None, right: Counts | None) -> Counts | None:
    if left is None or right is None:
        return right if left is None else left
    return [a + b for a, b in zip(left, right, strict=True)]


def label_counts_per_bin(
    data: DataTable, columns: Sequence[int], points: Sequence[Sequence[float]], labels: Sequence[float]
) -> Counts:
    """Per column, rows per (bin, label): shape (bins + 1 missing bin, labels); ``labels`` ascending."""
    if not columns:
        return []
    nothing: Counts | None = None
    part = functools.partial(
        _counts_pass, data.meta(), list(columns), [list(p) for p in points], list(labels)
    )
    found = data.table.aggregate(nothing, part, _add_counts)
    if found is None:
        return [np.zeros((len(p) + 1, len(labels)), dtype=np.int64) for p in points]
    return found


# ---- gathering sids with labels or bins (the rows the Paillier exchange works on) ----------------


def _labels_gather(block: Block) -> list[tuple[list[str], np.ndarray]]:
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    if "label" not in block.schema.names:
        raise DataFormatError(
            "the rows have no label column", hint="read the guest's data with with_label true"
        )
    sids = [str(s) for s in block.column("sid").to_pylist()]
    return [(sids, np.asarray(block.column("label").to_numpy(zero_copy_only=False), dtype=np.float64))]


def _bins_gather(
    meta: Mapping[str, Any], columns: Sequence[int], points: Sequence[Sequence[float]], block: Block
) -> list[tuple[list[str], np.ndarray]]:
    rows = rows_of(meta, block)
    values = rows.features()[:, list(columns)]
    bins = np.zeros((len(rows), len(columns)), dtype=np.int32)
    for k, sp in enumerate(points):
        bins[:, k] = splits.assign_bins(values[:, k], sp)
    return [([str(s) for s in rows.ids()], bins)]


def _concat(left: list[Any], right: list[Any]) -> list[Any]:
    return left + right


def gather_labels(data: DataTable) -> tuple[list[str], np.ndarray]:
    """Every row's sid and label, in partition order."""
    parts: list[tuple[list[str], np.ndarray]] = data.table.aggregate([], _labels_gather, _concat)
    sids = [sid for part, _ in parts for sid in part]
    labels = np.concatenate([labels for _, labels in parts]) if parts else np.zeros(0)
    return sids, labels


def gather_bins(
    data: DataTable, columns: Sequence[int], points: Sequence[Sequence[float]]
) -> tuple[list[str], np.ndarray]:
    """Every row's sid and its bin in each column (int32, rows by columns), in partition order."""
    part = functools.partial(_bins_gather, data.meta(), list(columns), [list(p) for p in points])
    parts: list[tuple[list[str], np.ndarray]] = data.table.aggregate([], part, _concat)
    sids = [sid for chunk, _ in parts for sid in chunk]
    bins = np.concatenate([b for _, b in parts]) if parts else np.zeros((0, len(columns)), dtype=np.int32)
    return sids, bins
