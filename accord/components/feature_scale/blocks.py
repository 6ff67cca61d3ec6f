"""FeatureScale on a block table: the column statistics it learns, gathered a partition at a time.

Normal mode needs each chosen column's min and max (combined over partitions exactly); standard
scaling then its mean and deviation of the column cut to the bounds, in two more passes (sums, then
squared distances from the mean, as numpy's nanmean / nanstd compute them, summed per partition).
Cap mode's bounds are exact percentiles, which no per-partition summary gives: it gathers the chosen
columns (only those) to this process, as the whole-table fit held them. Scaling is then a map over
the partitions. The functions handed to the engine are module level (they run in other processes).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.feature_scale import model as scale
from accord.components.feature_scale.params import FeatureScaleParam
from accord.components.sdk import Dataset, DataTable
from accord.components.sdk.dataset import FEATURES
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.errors import DataFormatError


@dataclass(frozen=True)
class Columns:
    """Per chosen column: how many values, their min and max, and a sum (of values or of squares)."""

    rows: int
    count: np.ndarray
    low: np.ndarray
    high: np.ndarray
    total: np.ndarray


def _add(left: Columns | None, right: Columns | None) -> Columns | None:
    if left is None or right is None:
        return right if left is None else left
    return Columns(
        left.rows + right.rows,
        left.count + right.count,
        np.fmin(left.low, right.low),
        np.fmax(left.high, right.high),
        left.total + right.total,
    )


def _values(meta: Mapping[str, Any], chosen: list[int], block: Block) -> np.ndarray:
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    rows = Dataset.of(pa.Table.from_batches([block]), meta)
    values: np.ndarray = rows.features()[:, chosen]
    return values


def column_pass(
    meta: Mapping[str, Any],
    chosen: list[int],
    bounds: tuple[np.ndarray, np.ndarray] | None,
    mean: np.ndarray | None,
    block: Block,
) -> Columns:
    """Counts, min and max of the values (no ``bounds``); with bounds, the sum of the values cut to
    them, or (given the ``mean``) of their squared distances from it."""
    values = _values(meta, chosen, block)
    blank = np.isnan(values)
    if bounds is not None:
        values = np.clip(values, *bounds)
        if mean is not None:
            values = values - mean
            values = values * values
    zeroed = np.where(blank, 0.0, values)
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(values, axis=0, initial=np.inf)
        high = np.fmax.reduce(values, axis=0, initial=-np.inf)
    return Columns(len(values), (~blank).sum(axis=0), low, high, np.sum(zeroed, axis=0))


def gather_pass(meta: Mapping[str, Any], chosen: list[int], block: Block) -> list[np.ndarray]:
    return [_values(meta, chosen, block)]


def _concat(left: list[np.ndarray], right: list[np.ndarray]) -> list[np.ndarray]:
    return left + right


def learn(params: FeatureScaleParam, data: DataTable, component: str) -> scale.ScaleModel:
    """The model ``scale.fit`` learns from the same rows, from their partitions."""
    header = list(data.header)
    if params.method is None:
        return scale.passthrough(params, header)
    chosen = scale.chosen_columns(params, header, component)
    meta = data.meta()
    table = data.table
    nothing: Columns | None = None
    first = table.aggregate(nothing, functools.partial(column_pass, meta, chosen, None, None), _add)
    if first is None or (chosen and first.rows == 0):
        raise DataFormatError(f"{component} has no rows to learn the scale from", hint="check its input data")
    scale.check_columns(header, chosen, first.count, component)
    if params.mode == "cap":
        low_share, high_share = scale.cap_shares(params, chosen, len(header), component)
        no_parts: list[np.ndarray] = []
        parts = table.aggregate(no_parts, functools.partial(gather_pass, meta, chosen), _concat)
        values = np.concatenate(parts, axis=0)
        lower = np.array([np.nanquantile(values[:, k], q) for k, q in enumerate(low_share)])
        upper = np.array([np.nanquantile(values[:, k], q) for k, q in enumerate(high_share)])
    else:
        lower, upper = scale.normal_bounds(params, first.low, first.high, chosen, len(header), component)
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    if params.method == "standard_scale":
        bounds = (lower, upper)
        sums = table.aggregate(nothing, functools.partial(column_pass, meta, chosen, bounds, None), _add)
        assert sums is not None  # the first pass saw partitions
        center = sums.total / sums.count
        squares = table.aggregate(nothing, functools.partial(column_pass, meta, chosen, bounds, center), _add)
        assert squares is not None
        mean = center if params.with_mean else np.zeros(len(chosen))
        std = np.sqrt(squares.total / squares.count) if params.with_std else np.ones(len(chosen))
    return scale.fitted(params, header, chosen, (lower, upper), mean, std)


def scale_block(
    model: dict[str, Any], meta: Mapping[str, Any], component: str, index: int, block: Block
) -> Block:
    """One partition with its features scaled by ``model``; every other column as it was."""
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    rows = Dataset.of(pa.Table.from_batches([block]), meta)
    fitted = scale.ScaleModel.from_json(model, component=component)
    features = scale.apply(fitted, rows.header, rows.features(), component)
    flat = pa.array(np.ascontiguousarray(features).reshape(-1), type=pa.float64())
    column = pa.FixedSizeListArray.from_arrays(flat, features.shape[1])
    table = rows.table.set_column(rows.table.column_names.index(FEATURES), FEATURES, column)
    return concat_batches(table.to_batches(), table.schema)


def scaled(model: scale.ScaleModel, data: DataTable, component: str) -> DataTable:
    """``data`` with its features scaled by ``model`` (unchanged when the model scales nothing)."""
    if not model.scales:
        return data
    fn = functools.partial(scale_block, model.to_json(), data.meta(), component)
    return replace(data, table=data.table.map_partitions_with_index(fn, preserves_sids=True))
