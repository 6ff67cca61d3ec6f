"""Selection's passes over a block table: column moments, value counts and the kept columns.

Each function given to the engine is module level (it runs in other processes). Moments are summed per
partition (count, sums of powers, min, max, missing) and combined exactly; percentiles gather only the
asked columns. percentage_value finds, per partition, the values that could hold more than 1/k of the
rows (a value over 1/k of the table is over 1/k of some partition), then counts them exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.sdk import Dataset, DataTable
from accord.components.sdk.dataset import FEATURES
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.errors import DataFormatError


def _features(meta: Mapping[str, Any], block: Block) -> np.ndarray:
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    values: np.ndarray = Dataset.of(pa.Table.from_batches([block]), meta).features()
    return values


@dataclass(frozen=True)
class Moments:
    rows: int
    count: np.ndarray
    sums: np.ndarray  # (4, columns): sums of x, x^2, x^3, x^4 over present values
    low: np.ndarray
    high: np.ndarray


def moments_pass(meta: Mapping[str, Any], cols: list[int], block: Block) -> Moments:
    values = _features(meta, block)[:, cols]
    present = ~np.isnan(values)
    zeroed = np.where(present, values, 0.0)
    sums = np.stack([np.sum(zeroed**power, axis=0) for power in (1, 2, 3, 4)])
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(values, axis=0, initial=np.inf)
        high = np.fmax.reduce(values, axis=0, initial=-np.inf)
    return Moments(len(values), present.sum(axis=0), sums, low, high)


def _add_moments(left: Moments | None, right: Moments | None) -> Moments | None:
    if left is None or right is None:
        return right if left is None else left
    return Moments(
        left.rows + right.rows,
        left.count + right.count,
        left.sums + right.sums,
        np.fmin(left.low, right.low),
        np.fmax(left.high, right.high),
    )


def moments(data: DataTable, cols: list[int]) -> Moments:
    nothing: Moments | None = None
    found = data.table.aggregate(nothing, functools.partial(moments_pass, data.meta(), cols), _add_moments)
    if found is None:
        raise DataFormatError("selection found no partitions in its input")
    return found


def gather_pass(meta: Mapping[str, Any], cols: list[int], block: Block) -> list[np.ndarray]:
    return [_features(meta, block)[:, cols]]


def _concat(left: list[np.ndarray], right: list[np.ndarray]) -> list[np.ndarray]:
    return left + right


def gather(data: DataTable, cols: list[int]) -> np.ndarray:
    """The asked columns of every row, in this process (only for exact percentiles)."""
    nothing: list[np.ndarray] = []
    parts = data.table.aggregate(nothing, functools.partial(gather_pass, data.meta(), cols), _concat)
    return np.concatenate(parts, axis=0) if parts else np.zeros((0, len(cols)))


# ---- percentage_value ----------------------------------------------------------------------------


def _rounded(values: np.ndarray) -> np.ndarray:
    # FATE rounds float values to 8 decimals before counting them.
    return np.round(values, 8)


def candidates_pass(meta: Mapping[str, Any], cols: list[int], k: int, block: Block) -> list[set[float]]:
    """Per column, the values holding more than 1/k of this partition's rows."""
    values = _rounded(_features(meta, block)[:, cols])
    found: list[set[float]] = []
    for column in values.T:
        # Missing values never make a mode in FATE (NaN never equals itself there either).
        seen, counts = np.unique(column[~np.isnan(column)], return_counts=True)
        found.append({float(v) for v in seen[counts * k > len(column)]})
    return found


def _union(left: list[set[float]] | None, right: list[set[float]] | None) -> list[set[float]] | None:
    if left is None or right is None:
        return right if left is None else left
    return [a | b for a, b in zip(left, right, strict=True)]


def counts_pass(
    meta: Mapping[str, Any], cols: list[int], wanted: list[list[float]], block: Block
) -> list[np.ndarray]:
    values = _rounded(_features(meta, block)[:, cols])
    return [
        np.array([np.count_nonzero(column == v) for v in want], dtype=np.int64)
        for column, want in zip(values.T, wanted, strict=True)
    ]


def _add_counts(left: list[np.ndarray] | None, right: list[np.ndarray] | None) -> list[np.ndarray] | None:
    if left is None or right is None:
        return right if left is None else left
    return [a + b for a, b in zip(left, right, strict=True)]


def top_value_counts(data: DataTable, cols: list[int], k: int) -> list[int | None]:
    """Per column, how many rows hold its most frequent value if that may exceed 1/k of them, else None."""
    if not cols:
        return []
    meta = data.meta()
    nothing: list[set[float]] | None = None
    found = data.table.aggregate(nothing, functools.partial(candidates_pass, meta, cols, k), _union)
    wanted = [sorted(values) for values in (found or [set() for _ in cols])]
    none: list[np.ndarray] | None = None
    counted = data.table.aggregate(none, functools.partial(counts_pass, meta, cols, wanted), _add_counts)
    return [
        int(c.max()) if counted is not None and c.size else None
        for c in (counted or [np.zeros(0, np.int64) for _ in cols])
    ]


# ---- the output ----------------------------------------------------------------------------------


def select_block(meta: Mapping[str, Any], keep: list[int], index: int, block: Block) -> Block:
    """One partition with only the ``keep`` feature columns; ids, labels and weights as they were."""
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    rows = Dataset.of(pa.Table.from_batches([block]), meta)
    table = rows.table
    if FEATURES in table.column_names:
        position = table.column_names.index(FEATURES)
        if keep:
            features = np.ascontiguousarray(rows.features()[:, keep])
            flat = pa.array(features.reshape(-1), type=pa.float64())
            column = pa.FixedSizeListArray.from_arrays(flat, len(keep))
            table = table.set_column(position, FEATURES, column)
        else:
            # Rows with no feature left have no features column, as Dataset.instances writes them.
            table = table.remove_column(position)
    return concat_batches(table.to_batches(), table.schema)


def selected(data: DataTable, keep: list[int]) -> DataTable:
    """``data`` with only the feature columns at ``keep`` (in header order), its header to match."""
    if keep == list(range(len(data.header))):
        return data
    fn = functools.partial(select_block, data.meta(), keep)
    header = tuple(data.header[i] for i in keep)
    return data.with_table(data.table.map_partitions_with_index(fn, preserves_sids=True), header=header)
