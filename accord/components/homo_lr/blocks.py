"""HomoLR's local training on a block table: epochs a partition at a time, never the whole table.

A client's rows become, once, one blob per partition (features, labels, sample weights). A full-batch
epoch is one pass on the engine: each partition's loss, ``X^T·residual`` and residual sum at the
epoch's weights, added up. Mini-batches walk the rows in data order, as FATE 1.11's FedAVG trainer
does, and step the weights after each batch, which is sequential by nature: the partitions stream
through this process one at a time, and a batch that spans two partitions is summed piece by piece.
Scores and prediction rows are a map over the partitions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.hetero_lr import common, encoded
from accord.components.hetero_lr.kernels import prediction_rows
from accord.components.sdk import Dataset, DataTable
from accord.computing import Block, BlockTable
from accord.errors import DataFormatError


@dataclass
class Sums:
    """What a batch's rows add up to at fixed weights: loss, ``X^T·residual``, residual sum, rows."""

    loss: float
    gradient: np.ndarray
    residual: float
    rows: int

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.loss + other.loss,
            self.gradient + other.gradient,
            self.residual + other.residual,
            self.rows + other.rows,
        )


def _blob(block: Block) -> bytes:
    if not isinstance(block, bytes):
        raise DataFormatError("a HomoLR partition is rows where a blob was expected")
    return block


def _rows(meta: Mapping[str, Any], block: Block) -> Dataset:
    if isinstance(block, bytes):
        raise DataFormatError("a HomoLR partition is a blob where rows were expected")
    return Dataset.of(pa.Table.from_batches([block]), meta)


def prepare(meta: Mapping[str, Any], index: int, block: Block) -> Block:
    rows = _rows(meta, block)
    sections: dict[str, np.ndarray | bytes] = {"x": rows.features()}
    labels, weights = rows.labels(), rows.weights()
    if labels is not None:
        sections["y"] = labels
    if weights is not None:
        sections["w"] = weights
    return encoded.pack(sections)


def unpacked(block: Block) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    sections = encoded.unpack(_blob(block))
    if "y" not in sections:
        raise DataFormatError(
            "a HomoLR client's rows have no label", hint="set with_label: true in DataTransform"
        )
    weights = encoded.array(sections, "w") if "w" in sections else None
    return encoded.array(sections, "x"), encoded.array(sections, "y"), weights


def piece(
    x: np.ndarray, y: np.ndarray, row_weight: np.ndarray | None, weights: np.ndarray, fit_intercept: bool
) -> Sums:
    """The sums of these rows at ``weights`` (the exact logistic loss and its gradient)."""
    scale = np.ones(len(y)) if row_weight is None else row_weight
    coef = weights[:-1] if fit_intercept else weights
    z = x @ coef + (weights[-1] if fit_intercept else 0.0)
    # log(1 + e^z) - y·z: the logistic loss, computed without overflow.
    loss = float(np.sum(scale * (np.logaddexp(0.0, z) - y * z)))
    residual = scale * (common.sigmoid(z) - y)
    return Sums(loss, x.T @ residual, float(residual.sum()), len(y))


def partition_sums(weights: np.ndarray, fit_intercept: bool, block: Block) -> Sums:
    x, y, row_weight = unpacked(block)
    return piece(x, y, row_weight, weights, fit_intercept)


def add_sums(left: Sums | None, right: Sums | None) -> Sums | None:
    if left is None or right is None:
        return right if left is None else left
    return left + right


def row_count(block: Block) -> int:
    return int(encoded.array(encoded.unpack(_blob(block)), "x").shape[0])


def add(left: Any, right: Any) -> Any:
    return left + right


def prepared(data: DataTable) -> BlockTable:
    return data.table.map_partitions_with_index(functools.partial(prepare, data.meta())).persist()


def pieces(rows: BlockTable, size: int) -> Iterator[list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]]:
    """The rows in data order as batches of ``size`` (the last may be short), each a list of
    consecutive slices of partitions; one partition in this process at a time."""
    batch: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
    have = 0
    for _, block in rows.blocks():
        x, y, w = unpacked(block)
        start = 0
        while start < len(y):
            take = min(size - have, len(y) - start)
            stop = start + take
            batch.append((x[start:stop], y[start:stop], None if w is None else w[start:stop]))
            have += take
            start = stop
            if have == size:
                yield batch
                batch, have = [], 0
    if batch:
        yield batch


def scores_of(coef: np.ndarray, intercept: float, block: Block) -> list[np.ndarray]:
    x, y, _ = unpacked(block)
    return [np.stack([y, common.sigmoid(x @ coef + intercept)])]


def concat(left: list[Any], right: list[Any]) -> list[Any]:
    return left + right


def predictions(
    meta: Mapping[str, Any],
    coef: np.ndarray,
    intercept: float,
    threshold: float,
    data_type: str,
    index: int,
    block: Block,
) -> Block:
    rows = _rows(meta, block)
    return prediction_rows(rows, common.sigmoid(rows.features() @ coef + intercept), threshold, data_type)


def predicted(
    data: DataTable, coef: np.ndarray, intercept: float, threshold: float, data_type: str
) -> BlockTable:
    fn = functools.partial(predictions, data.meta(), coef, intercept, threshold, data_type)
    return data.table.map_partitions_with_index(fn)
