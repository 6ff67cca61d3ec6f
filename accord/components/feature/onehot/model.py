"""OneHotEncoder's model and transform, as FATE 1.11 names and fills the new columns.

fit collects the distinct values of each chosen column; numeric ones must be whole numbers (FATE
refuses any other number, NaN included), text ones (DataTransform's data_type "str") are taken as
written (see text.py); at most 1024 per column. Each value v of column c becomes the column
``f"{c}_{v}"`` with v written as an integer (``x3_1``, ``x3_-2``), in place of c, values ascending
(FATE keeps a set's order, which for small integers is the same). A row gets 1 in the column of its
value and 0 in the others; a value the model has not seen (predict) sets none of them, as in FATE.
Columns not chosen keep their place and values.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.feature.onehot import text
from accord.components.feature.onehot.params import OneHotEncoderParam
from accord.components.sdk import Dataset, DataTable
from accord.components.sdk.dataset import FEATURES
from accord.computing import Block
from accord.computing.block import concat_batches
from accord.errors import DataFormatError, DataMismatchError

MODULE = "OneHotEncoder"
ONE_HOT_LIMIT = 1024


def chosen_columns(params: OneHotEncoderParam, header: Sequence[str]) -> list[int]:
    """The columns to encode: every one for -1, else the indexes and then the names given, skipping
    those this party lacks (as FATE does: a common conf may name another party's columns)."""
    if params.transform_col_indexes == -1:
        return list(range(len(header)))
    position = {name: index for index, name in enumerate(header)}
    indexes = params.transform_col_indexes if isinstance(params.transform_col_indexes, list) else []
    chosen: list[int] = []
    for index in [*indexes, *(position.get(name, -1) for name in params.transform_col_names or [])]:
        if 0 <= index < len(header) and index not in chosen:
            chosen.append(index)
    return chosen


def _rows(meta: Mapping[str, Any], block: Block) -> Dataset:
    if isinstance(block, bytes):
        raise DataFormatError("a table of feature rows holds a blob partition")
    return Dataset.of(pa.Table.from_batches([block]), meta)


@dataclass
class Seen:
    """What fit learns from a partition (or several): the values of each chosen column, whether they
    are text, and the columns not chosen that hold text (text rows only)."""

    text: bool
    values: list[np.ndarray]
    text_columns: set[str] = field(default_factory=set)


def values_pass(meta: Mapping[str, Any], chosen: list[int], block: Block) -> Seen:
    """Each chosen column's distinct values in this partition (refusing a number that is not whole)."""
    rows = _rows(meta, block)
    if rows.is_text:
        found, text_columns = text.text_values(rows, chosen)
        return Seen(True, found, text_columns)
    features = rows.features()
    numbers = []
    for index in chosen:
        distinct = np.unique(features[:, index])
        bad = distinct[~(np.ceil(distinct) == distinct)]
        if bad.size:
            raise DataFormatError(
                f"OneHotEncoder encodes whole numbers only, and column {rows.header[index]!r} holds "
                f"{float(bad[0])!r}",
                hint="encode integer-valued columns only (transform_col_indexes / transform_col_names), "
                "fill missing cells first (FeatureImputation), or bin the column (HeteroFeatureBinning)",
            )
        numbers.append(distinct)
    return Seen(False, numbers)


def _union(left: Seen | None, right: Seen | None) -> Seen | None:
    if left is None or right is None:
        return right if left is None else left
    return Seen(
        left.text,
        [np.union1d(a, b) for a, b in zip(left.values, right.values, strict=True)],
        left.text_columns | right.text_columns,
    )


def learn(params: OneHotEncoderParam, data: DataTable) -> dict[str, Any]:
    header = list(data.header)
    chosen = chosen_columns(params, header)
    nothing: Seen | None = None
    seen = data.table.aggregate(nothing, functools.partial(values_pass, data.meta(), chosen), _union)
    found = seen.values if seen is not None else [np.zeros(0)] * len(chosen)
    values = dict(zip([header[i] for i in chosen], found, strict=True))
    return assemble(
        header,
        values,
        need_run=params.need_run,
        value_type=text.TEXT if seen is not None and seen.text else text.NUMBER,
        text_columns=sorted(seen.text_columns) if seen is not None else [],
    )


def assemble(
    header: Sequence[str],
    values: Mapping[str, np.ndarray],
    *,
    need_run: bool = True,
    module: str = MODULE,
    value_type: str = text.NUMBER,
    text_columns: Sequence[str] = (),
) -> dict[str, Any]:
    """The model that encodes each column of ``values`` (in header order) by those distinct values:
    numbers (``value_type`` "number") or texts ("text", whose rows keep ``text_columns`` as text).

    Shared with HomoOneHotEncoder, which assembles it from the union of every client's values.
    """
    col_map: dict[str, dict[str, list[str]]] = {}
    for name in [name for name in header if name in values]:
        if value_type == text.TEXT:
            texts = sorted({str(value) for value in values[name]})
        else:
            texts = [str(int(v)) for v in np.unique(np.asarray(values[name], dtype=np.float64))]
        if len(texts) > ONE_HOT_LIMIT:
            raise DataFormatError(
                f"column {name!r} has {len(texts)} distinct values; OneHotEncoder takes at most "
                f"{ONE_HOT_LIMIT} per column",
                hint="bin the column first (HeteroFeatureBinning) or leave it out of transform_col_indexes",
            )
        col_map[name] = {"values": texts, "transformed_headers": [f"{name}_{value}" for value in texts]}
    result_header: list[str] = []
    for name in header:
        result_header.extend(col_map[name]["transformed_headers"] if name in col_map else [name])
    return {
        "module": module,
        "header": list(header),
        "transform_col_names": [name for name in values if name in col_map],
        "col_map": col_map,
        "result_header": result_header,
        "need_run": need_run,
        "value_type": value_type,
        "text_columns": text.text_columns_of(header, set(text_columns)),
    }


def check(
    model: Mapping[str, Any], header: Sequence[str], component: str, module: str = MODULE
) -> dict[str, Any]:
    if model.get("module") != module or "col_map" not in model:
        raise DataMismatchError(
            f"{component} was given a model that is not a {module} model",
            hint=f"wire in the model output of a {module} component",
        )
    absent = [name for name in model["header"] if name not in header]
    if absent:
        raise DataMismatchError(
            f"{component}: the rows have no columns {absent[:10]}, which the one-hot model was fitted on",
            hint="encode data with the same header as the data the model was trained on",
        )
    return dict(model)


def encode(model: Mapping[str, Any], header: Sequence[str], features: np.ndarray) -> np.ndarray:
    """The rows (by ``header``) as the model's result_header columns."""
    position = {name: index for index, name in enumerate(header)}
    parts: list[np.ndarray] = []
    col_map = model["col_map"]
    for name in model["header"]:
        column = features[:, position[name]]
        if name not in col_map:
            parts.append(column[:, None])
            continue
        known = np.asarray([float(value) for value in col_map[name]["values"]])
        parts.append((column[:, None] == known[None, :]).astype(np.float64))
    return np.hstack(parts) if parts else np.zeros((len(features), 0))


def encode_block(model: dict[str, Any], meta: Mapping[str, Any], index: int, block: Block) -> Block:
    rows = _rows(meta, block)
    value_type = model.get("value_type", text.NUMBER)
    if rows.is_text != (value_type == text.TEXT):
        kind = "text" if rows.is_text else "numeric"
        raise DataMismatchError(
            f"the one-hot model was fitted on {value_type} features but these rows hold {kind} ones",
            hint="encode rows read with the DataTransform data_type the model's training data had",
        )
    if rows.is_text:
        table = text.encode_text(model, rows)
        return concat_batches(table.to_batches(), table.schema)
    features = encode(model, rows.header, rows.features())
    table = rows.table
    if FEATURES in table.column_names:
        table = table.drop_columns([FEATURES])
    if features.shape[1]:
        flat = pa.array(np.ascontiguousarray(features).reshape(-1), type=pa.float64())
        table = table.append_column(FEATURES, pa.FixedSizeListArray.from_arrays(flat, features.shape[1]))
    return concat_batches(table.to_batches(), table.schema)


def encoded(model: dict[str, Any], data: DataTable) -> DataTable:
    """``data`` with its features one-hot encoded and its header the model's result header; rows
    that keep text name the columns left as text (what a numeric component's refusal names)."""
    fn = functools.partial(encode_block, model, data.meta())
    extra = {key: value for key, value in data.extra.items() if key != "text_columns"}
    if model.get("text_columns"):
        extra["text_columns"] = list(model["text_columns"])
    return replace(
        data,
        table=data.table.map_partitions_with_index(fn, preserves_sids=True),
        header=tuple(model["result_header"]),
        extra=extra,
    )
