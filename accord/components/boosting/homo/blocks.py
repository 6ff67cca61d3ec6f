"""What HomoSecureBoost asks of the engine: a client's rows as arrays, and prediction rows.

Training reads a client's rows once (features, labels, sample weights) into this process: the
boosting rounds revisit every row at every level of every tree, and a client's rows are what its
own party holds anyway. Predicting is a map over the partitions with the model (picklable
module-level functions, as the Spark engine needs).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.boosting.homo.model import Booster, predictions
from accord.components.homo_lr import blocks as lr_blocks
from accord.components.sdk import Dataset, DataTable
from accord.computing import Block, BlockTable
from accord.computing.block import concat_batches
from accord.errors import DataFormatError


@dataclass(frozen=True)
class Rows:
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray | None

    def __len__(self) -> int:
        return int(self.y.shape[0])


def local_rows(data: DataTable, component: str) -> Rows:
    """A client's rows in data order (features as float, NaN where missing)."""
    table = lr_blocks.prepared(data)
    xs, ys, ws = [], [], []
    try:
        for _, block in table.blocks():
            x, y, w = lr_blocks.unpacked(block)
            xs.append(x)
            ys.append(y)
            ws.append(w)
    finally:
        table.unpersist()
    width = len(data.header)
    if not ys:
        raise DataFormatError(
            f"{component}: a client's train data has no row", hint="check the Reader's table"
        )
    weights = None if any(w is None for w in ws) else np.concatenate([w for w in ws if w is not None])
    return Rows(
        np.concatenate(xs).reshape(-1, width).astype(np.float64),
        np.concatenate(ys).astype(np.float64),
        weights,
    )


def predict_partition(
    meta: Mapping[str, Any],
    model: Mapping[str, Any],
    component: str,
    data_type: str,
    index: int,
    block: Block,
) -> Block:
    if isinstance(block, bytes):
        raise DataFormatError(f"{component}: a partition to predict is a blob where rows were expected")
    rows = Dataset.of(pa.Table.from_batches([block]), meta)
    booster = Booster.of(model, component)
    x = booster.aligned(rows.header, rows.features(), component)
    result = predictions(booster, rows, booster.raw_scores(x), data_type).table
    return concat_batches(result.to_batches(), result.schema)


def predicted(data: DataTable, model: Mapping[str, Any], component: str, data_type: str) -> BlockTable:
    fn = functools.partial(predict_partition, data.meta(), dict(model), component, data_type)
    return data.table.map_partitions_with_index(fn)
