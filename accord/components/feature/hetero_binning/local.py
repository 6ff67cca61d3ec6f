"""The split points a party finds on its own rows (no labels needed), and the optimal merge step.

Numeric columns get the method's split points (quantile or bucket with bin_num; for optimal binning
the initial bins, init_bucket_method with init_bin_nums, which the merge then joins) or the user's
own (split_points_by_index / split_points_by_col_name, which take the place of any method); category
columns get their distinct values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.feature.binning import blocks, splits
from accord.components.feature.hetero_binning.model import Columns, custom_points
from accord.components.feature.hetero_binning.params import HeteroFeatureBinningParam
from accord.components.sdk import DataTable
from accord.errors import ComponentFeatureUnsupported


def runs_optimal(params: HeteroFeatureBinningParam) -> bool:
    """Optimal merging runs unless the user's split points replace the method (as in FATE)."""
    return params.method == "optimal" and not params.custom_split_points


def split_points(
    params: HeteroFeatureBinningParam, data: DataTable, columns: Columns, component: str
) -> dict[str, list[float]]:
    """Each binned column's split points, by name, in header order."""
    header = columns.header
    found: dict[str, list[float]] = {}
    numeric = columns.bin_cols
    if params.custom_split_points:
        given = custom_points(params, columns, component)
        for index in numeric:
            name = header[index]
            found[name] = splits.custom_split_points(given[name], name, "split_points_by_col_name")
    else:
        method, bins = params.method, params.bin_num
        if method == "optimal":
            method = params.optimal_binning_param.init_bucket_method
            bins = params.optimal_binning_param.init_bin_nums
        if method == "bucket":
            points = blocks.bucket_points(data, numeric, bins)
        else:
            points = blocks.quantile_points(data, numeric, bins, params.error)
        found.update({header[i]: p for i, p in zip(numeric, points, strict=True)})
    categories = blocks.category_points(data, columns.category_cols)
    found.update({header[i]: p for i, p in zip(columns.category_cols, categories, strict=True)})
    return {header[i]: found[header[i]] for i in columns.binned}


def optimal_settings(params: HeteroFeatureBinningParam) -> dict[str, Any]:
    """The merge's settings, as one party tells the other (nothing in them is private)."""
    optimal = params.optimal_binning_param
    return {
        "metric_method": optimal.metric_method,
        "bin_num": params.bin_num,
        "min_bin_pct": optimal.min_bin_pct,
        "max_bin_pct": optimal.max_bin_pct,
        "mixture": optimal.mixture,
        "adjustment_factor": params.adjustment_factor,
    }


def optimal_kept(
    points: Sequence[float], events: np.ndarray, totals: np.ndarray, settings: Mapping[str, Any]
) -> list[int]:
    """Which initial split points the optimal merge keeps (helper H2's optimal.py decides)."""
    try:
        from accord.components.feature.binning.optimal import optimal_split_points
    except ImportError:  # pragma: no cover - only while optimal.py is being written
        raise ComponentFeatureUnsupported(
            "HeteroFeatureBinning method optimal is not available in this build",
            hint="use method quantile or bucket",
            field="method",
        ) from None
    if len(points) <= 1:
        return list(range(len(points)))
    bins = len(points)
    kept = optimal_split_points(
        list(points),
        [int(v) for v in events[:bins]],
        [int(v) for v in (totals - events)[:bins]],
        metric_method=str(settings["metric_method"]),
        bin_num=int(settings["bin_num"]),
        min_bin_pct=float(settings["min_bin_pct"]),
        max_bin_pct=float(settings["max_bin_pct"]),
        mixture=bool(settings["mixture"]),
        adjustment_factor=float(settings["adjustment_factor"]),
    )
    return sorted(int(k) for k in kept)


def merged(counts: np.ndarray, kept: Sequence[int]) -> np.ndarray:
    """Per-bin counts (the missing bin last) of the initial bins, summed into the kept ones."""
    bins = len(counts) - 1
    return np.concatenate([splits.merge_bins(counts[:bins], kept), counts[bins:]], axis=0)
