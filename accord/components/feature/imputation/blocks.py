"""FeatureImputation on a block table: one pass for the column summaries, one map to fill the cells.

The summary pass counts, per column, the rows, the missing cells (the impute rate's numerator) and
the count, sum, min and max of the cells that are neither missing nor NaN (what min / max / mean fill
with). Filling is then a map over the partitions with the fill values fixed, the same function
predict applies with a saved model. The functions handed to the engine are module level.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.feature.imputation.model import Matcher, apply
from accord.components.sdk import Dataset, DataTable
from accord.components.sdk.dataset import FEATURES
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.errors import DataFormatError


@dataclass(frozen=True)
class Columns:
    rows: int
    missing: np.ndarray
    count: np.ndarray
    total: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _add(left: Columns | None, right: Columns | None) -> Columns | None:
    if left is None or right is None:
        return right if left is None else left
    return Columns(
        left.rows + right.rows,
        left.missing + right.missing,
        left.count + right.count,
        left.total + right.total,
        np.fmin(left.low, right.low),
        np.fmax(left.high, right.high),
    )


def _rows(meta: Mapping[str, Any], block: Block) -> Dataset:
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    return Dataset.of(pa.Table.from_batches([block]), meta)


def summary_pass(meta: Mapping[str, Any], matcher: Matcher, block: Block) -> Columns:
    values = _rows(meta, block).features()
    missing = matcher.mask(values)
    kept = np.where(missing | np.isnan(values), np.nan, values)
    blank = np.isnan(kept)
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(kept, axis=0, initial=np.inf)
        high = np.fmax.reduce(kept, axis=0, initial=-np.inf)
    return Columns(
        len(values),
        missing.sum(axis=0),
        (~blank).sum(axis=0),
        np.where(blank, 0.0, kept).sum(axis=0),
        low,
        high,
    )


def summarize(data: DataTable, matcher: Matcher) -> Columns:
    nothing: Columns | None = None
    found = data.table.aggregate(nothing, functools.partial(summary_pass, data.meta(), matcher), _add)
    if found is None:  # pragma: no cover - every engine has at least one partition
        raise DataFormatError("FeatureImputation's input has no partitions")
    return found


def fill_block(
    fill: Mapping[str, float | None],
    missing_impute: list[Any] | None,
    meta: Mapping[str, Any],
    index: int,
    block: Block,
) -> Block:
    """One partition with the missing cells filled; every other column as it was."""
    rows = _rows(meta, block)
    features, _ = apply(fill, Matcher.of(missing_impute), rows.header, rows.features())
    if FEATURES not in rows.table.column_names:
        return block
    flat = pa.array(np.ascontiguousarray(features).reshape(-1), type=pa.float64())
    column = pa.FixedSizeListArray.from_arrays(flat, features.shape[1])
    table = rows.table.set_column(rows.table.column_names.index(FEATURES), FEATURES, column)
    return concat_batches(table.to_batches(), table.schema)


def filled(data: DataTable, model: Mapping[str, Any]) -> DataTable:
    """``data`` with the model's fill values put in the missing cells of its filled columns."""
    if not model["fill_values"]:
        return data
    fn = functools.partial(fill_block, dict(model["fill_values"]), model["missing_impute"], data.meta())
    return replace(data, table=data.table.map_partitions_with_index(fn, preserves_sids=True))
