"""Applying a binning model to rows: each transformed column's value becomes its bin index
(``bin_num``) or its bin's WOE (``woe``); other columns, ids, labels and weights stay as they are.

As in FATE, a missing value's bin is the one after the last split point; its WOE is the missing
bin's when training saw missing values, else it stays missing. Runs as a map over the partitions.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.feature.binning import splits
from accord.components.feature.binning.blocks import rows_of
from accord.components.sdk import DataTable
from accord.components.sdk.dataset import FEATURES
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.errors import DataMismatchError


def plan(model: Mapping[str, Any], header: tuple[str, ...], component: str) -> dict[str, Any] | None:
    """What to replace in each transformed column, by column index; None when nothing changes."""
    transform = model.get("transform") or {}
    kind = transform.get("transform_type")
    names = list(transform.get("transform_cols") or [])
    if kind is None or not names:
        return None
    position = {name: i for i, name in enumerate(header)}
    missing = [name for name in names if name not in position]
    if missing:
        raise DataMismatchError(
            f"{component}: the rows have no columns {missing[:10]}, which the binning model transforms",
            hint="transform data with the same header as the data the model was trained on",
        )
    columns: dict[str, Any] = {}
    for name in names:
        entry: dict[str, Any] = {"split_points": list(model["split_points"][name])}
        if kind == "woe":
            entry["woe"] = list(model["results"][name]["woe"])
        columns[str(position[name])] = entry
    return {"kind": kind, "columns": columns}


def transform_block(steps: dict[str, Any], meta: Mapping[str, Any], index: int, block: Block) -> Block:
    rows = rows_of(meta, block)
    features = rows.features().copy()
    for key, entry in steps["columns"].items():
        col = int(key)
        points = entry["split_points"]
        if not points:
            continue
        bins = splits.assign_bins(features[:, col], points)
        if steps["kind"] == "bin_num":
            features[:, col] = bins.astype(np.float64)
        else:
            lookup = np.append(np.asarray(entry["woe"], dtype=np.float64), np.nan)
            features[:, col] = lookup[np.minimum(bins, len(lookup) - 1)]
    flat = pa.array(np.ascontiguousarray(features).reshape(-1), type=pa.float64())
    column = pa.FixedSizeListArray.from_arrays(flat, features.shape[1])
    table = rows.table.set_column(rows.table.column_names.index(FEATURES), FEATURES, column)
    return concat_batches(table.to_batches(), table.schema)


def transformed(model: Mapping[str, Any], data: DataTable, component: str) -> DataTable:
    """``data`` transformed as the model says (unchanged for transform_type null)."""
    steps = plan(model, data.header, component)
    if steps is None or not data.header:
        return data
    part = functools.partial(transform_block, steps, data.meta())
    return replace(data, table=data.table.map_partitions_with_index(part, preserves_sids=True))
