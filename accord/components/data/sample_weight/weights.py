"""The weights themselves, per block: from class weights by label, or from a feature column.

FATE keys class weights by the text of a row's label (``str(label)``): whole-number labels as ``"1"``,
float labels as ``"1.0"``, text labels (numbered by DataTransform) as their text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.sdk import Dataset
from accord.components.sdk.dataset import FEATURES, LABEL, WEIGHT
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.errors import DataFormatError

FLOAT_TYPES = frozenset({"float", "float64"})


def label_keys(values: np.ndarray, extra: Mapping[str, Any]) -> list[str]:
    """``str(label)`` as FATE's rows would print each value."""
    label_type = str(extra.get("label_type", "int"))
    mapping = extra.get("label_mapping")
    names = {float(number): str(text) for text, number in mapping.items()} if mapping else None
    keys = []
    for value in values.tolist():
        if names is not None and value in names:
            keys.append(names[value])
        elif label_type in FLOAT_TYPES or not float(value).is_integer():
            keys.append(str(float(value)))
        else:
            keys.append(str(int(value)))
    return keys


def _rows(meta: Mapping[str, Any], block: Block) -> Dataset:
    if isinstance(block, bytes):
        raise DataFormatError("a table of rows holds a blob partition")
    return Dataset.of(pa.Table.from_batches([block]), meta)


def count_labels(meta: Mapping[str, Any], block: Block) -> Counter[str]:
    rows = _rows(meta, block)
    labels = rows.labels()
    if labels is None:
        raise DataFormatError(
            "class weights need labels and these rows have none",
            hint="read the label in DataTransform (with_label true), or weigh by sample_weight_name",
        )
    unique, counts = np.unique(labels, return_counts=True)
    return Counter(dict(zip(label_keys(unique, meta["extra"]), counts.tolist(), strict=True)))


def add_counts(left: Counter[str], right: Counter[str]) -> Counter[str]:
    return left + right


@dataclass(frozen=True)
class Column:
    """Sum, count and minimum of the weight column (for normalize and FATE's negative-weight warning)."""

    total: float
    rows: int
    low: float


def column_summary(meta: Mapping[str, Any], loc: int, block: Block) -> Column:
    values = _rows(meta, block).features()[:, loc]
    low = float(np.min(values)) if len(values) else float("inf")
    return Column(float(np.sum(values)), len(values), low)


def add_columns(left: Column, right: Column) -> Column:
    return Column(left.total + right.total, left.rows + right.rows, min(left.low, right.low))


def weigh_block(
    meta: Mapping[str, Any],
    class_weight: Mapping[str, float] | None,
    loc: int | None,
    base: float | None,
    index: int,
    block: Block,
) -> Block:
    """The block with a ``weight`` column: column ``loc`` (divided by ``base``), which then leaves the
    features, or else the class weight of each row's label (1 for a label without one)."""
    rows = _rows(meta, block)
    table = rows.table
    if loc is not None:
        features = rows.features()
        weights = features[:, loc] / base if base is not None else features[:, loc].copy()
        kept = np.delete(features, loc, axis=1)
        table = table.drop_columns([FEATURES])
        if kept.shape[1]:
            flat = pa.array(np.ascontiguousarray(kept).reshape(-1), type=pa.float64())
            table = table.append_column(FEATURES, pa.FixedSizeListArray.from_arrays(flat, kept.shape[1]))
    else:
        labels = rows.labels()
        if labels is None:
            raise DataFormatError("class weights need labels and these rows have none")
        unique, inverse = np.unique(labels, return_inverse=True)
        per_label = np.array(
            [float((class_weight or {}).get(key, 1)) for key in label_keys(unique, meta["extra"])],
            dtype=np.float64,
        )
        weights = per_label[inverse] if len(unique) else np.zeros(0)
    column = pa.array(np.asarray(weights, dtype=np.float64), type=pa.float64())
    if WEIGHT in table.column_names:
        table = table.set_column(table.column_names.index(WEIGHT), WEIGHT, column)
    else:
        # Next to the label, where Dataset.instances puts it.
        position = table.column_names.index(LABEL) + 1 if LABEL in table.column_names else 1
        table = table.add_column(position, WEIGHT, column)
    return concat_batches(table.to_batches(), table.schema)
