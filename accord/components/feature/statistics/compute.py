"""DataStatistics on a block table: per-column sums and moments gathered a partition at a time.

Two passes give the moments exactly as numpy / scipy compute them: the first counts each chosen
column's values, their sum, min and max and its missing (NaN) cells; the second, given the means,
sums the 2nd, 3rd and 4th powers of the distances from them. (FATE sums raw powers in one pass; the
numbers are the same up to rounding, and centred sums keep them equal to scipy's.) A value counts in
the moments unless it is NaN or in ``abnormal_list``; missing_count and missing_ratio count NaN cells
only, as FATE's MissingStatistic does.

Percentiles (and the median) are exact: the smallest value whose share of the column's values at or
below it reaches q (numpy's ``inverted_cdf``), which is the value at rank ceil(q·n) that FATE's quantile
summary answers within ``quantile_error``; q within quantile_error of 0 or 1 gives the min or the max,
as in FATE. No per-partition summary gives exact percentiles, so the chosen columns' values (only
those) are gathered to this process, as FeatureScale's cap mode does.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.sdk import Dataset, DataTable
from accord.computing import Block
from accord.errors import DataFormatError

FLOAT_ZERO = 1e-8


@dataclass(frozen=True)
class Sums:
    """Per chosen column: rows, NaN cells, counted values, their sum, min, max and centred power sums."""

    rows: int
    missing: np.ndarray
    count: np.ndarray
    total: np.ndarray
    low: np.ndarray
    high: np.ndarray
    powers: np.ndarray  # shape (3, columns): sums of d**2, d**3, d**4 (zeros in the first pass)


def _add(left: Sums | None, right: Sums | None) -> Sums | None:
    if left is None or right is None:
        return right if left is None else left
    return Sums(
        left.rows + right.rows,
        left.missing + right.missing,
        left.count + right.count,
        left.total + right.total,
        np.fmin(left.low, right.low),
        np.fmax(left.high, right.high),
        left.powers + right.powers,
    )


def _values(meta: Mapping[str, Any], chosen: list[int], abnormal: list[float], block: Block) -> np.ndarray:
    """The chosen columns of the block's rows, with abnormal values as NaN."""
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    values: np.ndarray = Dataset.of(pa.Table.from_batches([block]), meta).features()[:, chosen]
    if abnormal:
        values = np.where(np.isin(values, abnormal), np.nan, values)
    return values


def sums_pass(
    meta: Mapping[str, Any], chosen: list[int], abnormal: list[float], mean: np.ndarray | None, block: Block
) -> Sums:
    """One partition's counts, sums and extremes; with ``mean``, its centred power sums too."""
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    features = Dataset.of(pa.Table.from_batches([block]), meta).features()[:, chosen]
    missing = np.isnan(features).sum(axis=0)
    values = np.where(np.isin(features, abnormal), np.nan, features) if abnormal else features
    blank = np.isnan(values)
    zeroed = np.where(blank, 0.0, values)
    powers = np.zeros((3, len(chosen)))
    if mean is not None:
        distance = np.where(blank, 0.0, values - mean)
        powers = np.stack([np.sum(distance**k, axis=0) for k in (2, 3, 4)])
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduce(values, axis=0, initial=np.inf)
        high = np.fmax.reduce(values, axis=0, initial=-np.inf)
    return Sums(len(values), missing, (~blank).sum(axis=0), zeroed.sum(axis=0), low, high, powers)


def gather_pass(
    meta: Mapping[str, Any], chosen: list[int], abnormal: list[float], block: Block
) -> list[np.ndarray]:
    return [_values(meta, chosen, abnormal, block)]


def _concat(left: list[np.ndarray], right: list[np.ndarray]) -> list[np.ndarray]:
    return left + right


def quantile(ordered: np.ndarray, q: float, error: float) -> float:
    """The q-quantile of the sorted values: min or max within ``error`` of the ends, else rank ceil(q·n)."""
    if ordered.size == 0:
        return 0.0
    if q <= error:
        return float(ordered[0])
    if q >= 1 - error:
        return float(ordered[-1])
    rank = max(math.ceil(q * ordered.size), 1)
    return float(ordered[rank - 1])


def _moments(first: Sums, second: Sums, bias: bool) -> dict[str, np.ndarray]:
    n = first.count.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = first.total / n
        variance = second.powers[0] / n
        variance = np.where(np.abs(variance) < FLOAT_ZERO, 0.0, variance)
        m3 = second.powers[1] / n
        m4 = second.powers[2] / n
        flat = variance == 0
        skew = np.where(flat, 0.0, m3 / variance**1.5)
        kurt = np.where(flat, 0.0, m4 / variance**2)
        if not bias:
            # scipy's bias-corrected skewness (n > 2) and excess kurtosis (n > 3), as FATE applies them.
            fix3 = (n > 2) & ~flat
            skew = np.where(fix3, np.sqrt((n - 1.0) * n) / (n - 2.0) * m3 / variance**1.5, skew)
            fix4 = (n > 3) & ~flat
            corrected = 1.0 / (n - 2) / (n - 3) * ((n**2 - 1.0) * m4 / variance**2 - 3 * (n - 1) ** 2) + 3
            kurt = np.where(fix4, corrected, kurt)
        stddev = np.sqrt(variance)
        safe_mean = np.where(np.abs(mean) < FLOAT_ZERO, FLOAT_ZERO, mean)
    return {
        "count": n,
        "sum": first.total,
        "mean": mean,
        "variance": variance,
        "stddev": stddev,
        "coefficient_of_variance": np.abs(stddev / safe_mean),
        "min": first.low,
        "max": first.high,
        "missing_count": first.missing.astype(np.float64),
        "missing_ratio": first.missing / max(first.rows, 1),
        "skewness": skew,
        "kurtosis": kurt - 3,
    }


def _number(value: float) -> float | None:
    # JSON has no NaN or infinity: a statistic a column has no values for is null.
    return float(value) if math.isfinite(value) else None


def compute(
    data: DataTable,
    chosen: list[int],
    statistics: Sequence[str],
    *,
    abnormal: list[float],
    error: float,
    bias: bool,
) -> dict[str, dict[str, float | None]]:
    """{statistic: {column: value}} for the ``chosen`` columns of ``data``, statistics in given order."""
    meta = data.meta()
    names = [data.header[index] for index in chosen]
    table = data.table
    nothing: Sums | None = None
    first = table.aggregate(nothing, functools.partial(sums_pass, meta, chosen, abnormal, None), _add)
    if first is None or first.rows == 0:
        raise DataFormatError("DataStatistics has no rows to describe", hint="check its input data")
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(first.count > 0, first.total / np.maximum(first.count, 1), 0.0)
    second = table.aggregate(nothing, functools.partial(sums_pass, meta, chosen, abnormal, mean), _add)
    assert second is not None  # the first pass saw partitions
    moments = _moments(first, second, bias)
    percentiles = [name for name in statistics if name == "median" or name.endswith("%")]
    ordered: list[np.ndarray] = []
    if percentiles:
        no_parts: list[np.ndarray] = []
        parts = table.aggregate(no_parts, functools.partial(gather_pass, meta, chosen, abnormal), _concat)
        values = np.concatenate(parts, axis=0) if parts else np.zeros((0, len(chosen)))
        ordered = [np.sort(column[~np.isnan(column)]) for column in values.T]
    results: dict[str, dict[str, float | None]] = {}
    for name in statistics:
        if name in moments:
            row = moments[name]
            results[name] = {col: _number(float(row[k])) for k, col in enumerate(names)}
        else:
            q = 0.5 if name == "median" else float(name[:-1]) / 100
            results[name] = {col: quantile(ordered[k], q, error) for k, col in enumerate(names)}
    return results
