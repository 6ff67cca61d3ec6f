"""Population stability per feature, as FATE 1.11's PSI computes it.

The expected table (train_data) is binned by FATE's quantile split points (``max_bin_num`` bins, the
binning core's accord.components.feature.binning); both tables are counted into those bins, and a
missing value into an extra bin at index ``max_bin_num``. With e and a a bin's share of the expected
and the actual rows (a share of 0 taken as 1e-6), a bin's PSI is (a - e) * ln(a / e) and a feature's
PSI the sum over all its bins.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.feature.binning import splits
from accord.components.feature.binning.blocks import rows_of
from accord.computing import Block

ROUND = 6
ZERO_SHARE = 1e-6


def count_block(
    meta: Mapping[str, Any],
    columns: Sequence[int],
    points: Sequence[Sequence[float]],
    bins: int,
    block: Block,
) -> np.ndarray:
    """Rows per bin of each feature (one row of the result per feature; the last column: missing)."""
    values = rows_of(meta, block).features()[:, list(columns)]
    counts = np.zeros((len(columns), bins + 1), dtype=np.int64)
    for k, split_points in enumerate(points):
        column = values[:, k]
        missing = np.isnan(column)
        found = splits.assign_bins(column[~missing], split_points)
        counts[k, : len(split_points)] = np.bincount(found, minlength=len(split_points))[: len(split_points)]
        counts[k, bins] = int(missing.sum())
    return counts


def add(left: np.ndarray | None, right: np.ndarray | None) -> np.ndarray | None:
    if left is None or right is None:
        return right if left is None else left
    total: np.ndarray = left + right
    return total


def shares(counts: np.ndarray, rows: int) -> np.ndarray:
    return counts / rows if rows else np.zeros_like(counts, dtype=np.float64)


def psi_per_bin(expected: np.ndarray, actual: np.ndarray, expected_rows: int, actual_rows: int) -> np.ndarray:
    e = shares(expected, expected_rows)
    a = shares(actual, actual_rows)
    e = np.where(e == 0, ZERO_SHARE, e)
    a = np.where(a == 0, ZERO_SHARE, a)
    result: np.ndarray = (a - e) * np.log(a / e)
    return result


def intervals(name: str, split_points: Sequence[float]) -> list[str]:
    """FATE's text of each bin: ``low<name<=high``, open at both ends."""
    bounds: list[float | None] = [None, *split_points[:-1], None]
    texts = []
    for low, high in itertools.pairwise(bounds):
        text = name
        if low is not None:
            text = f"{np.round(low, ROUND)}<{text}"
        if high is not None:
            text = f"{text}<={np.round(high, ROUND)}"
        texts.append(text)
    return texts


def model(
    header: Sequence[str],
    points: Sequence[Sequence[float]],
    expected: np.ndarray,
    actual: np.ndarray,
    rows: tuple[int, int],
    max_bin_num: int,
) -> dict[str, Any]:
    """The PSI model: total PSI per feature, and per bin its PSI, shares and interval (FATE's PsiSummary)."""
    totals: dict[str, float] = {}
    features: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(header):
        per_bin = psi_per_bin(expected[k], actual[k], *rows)
        totals[name] = float(per_bin.sum())
        # The bins the split points make, then the missing bin.
        shown = [*range(len(points[k])), max_bin_num]
        features[name] = {
            "psi": [round(float(per_bin[i]), ROUND) for i in shown],
            "expect_perc": [round(float(v), ROUND) for v in shares(expected[k], rows[0])[shown]],
            "actual_perc": [round(float(v), ROUND) for v in shares(actual[k], rows[1])[shown]],
            "interval": [*intervals(name, points[k]), "missing"],
        }
    return {
        "module": "PSI",
        "model_name": "PSI",
        "header": list(header),
        "psi": totals,
        "max_bin_num": max_bin_num,
        "split_points": {name: list(points[k]) for k, name in enumerate(header)},
        "feature_psi": features,
        "expect_count": rows[0],
        "actual_count": rows[1],
    }
