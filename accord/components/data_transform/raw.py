"""Reading a Reader's raw rows: the ids, and the value fields cut by DataTransform's delimiter.

A raw table holds the id in column 0 and the value fields as the upload cut them (by the upload's
delimiter, ``extra["delimiter"]``). FATE cuts a row's value text with DataTransform's own ``delimitor``;
when the two agree the columns are used as they are, otherwise each row's fields are joined back with
the upload delimiter and cut again, which gives FATE's fields either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.components.sdk import Dataset
from accord.errors import DataFormatError


def upload_delimiter(raw: Dataset) -> str:
    found = raw.extra.get("delimiter") or raw.extra.get("id_delimiter")
    return found if isinstance(found, str) and found else ","


def row_ids(raw: Dataset) -> np.ndarray:
    ids = raw.table.column(0)
    if not pa.types.is_string(ids.type):
        ids = pc.cast(ids, pa.string())
    return np.asarray(ids.to_pylist(), dtype=object)


def _value_columns(raw: Dataset) -> list[pa.Array[Any]]:
    columns = []
    for column in raw.table.columns[1:]:
        cells = column.combine_chunks()
        if not pa.types.is_string(cells.type):
            cells = pc.cast(cells, pa.string())
        columns.append(cells)
    return columns


def _header(raw: Dataset, width: int) -> list[str]:
    if len(raw.header) == width:
        return list(raw.header)
    if not raw.header:
        raise DataFormatError(
            "dense rows need the file's header line to name their columns, and this table has none",
            hint="upload the file with head 1, or read it with input_format sparse / tag",
        )
    raise DataFormatError(
        f"the table's header names {len(raw.header)} value columns but its rows have {width}",
        hint="upload the file again; its header line and rows disagree",
    )


@dataclass(frozen=True)
class DenseFields:
    ids: np.ndarray
    # Every value column's name (label and match-id columns included), trimmed as FATE trims them.
    names: list[str]
    columns: list[pa.Array[Any]]


def dense_fields(raw: Dataset, delimitor: str) -> DenseFields:
    ids = row_ids(raw)
    columns = _value_columns(raw)
    names = _header(raw, len(columns))
    joiner = upload_delimiter(raw)
    if delimitor == joiner or not columns:
        return DenseFields(ids, [name.strip() for name in names], columns)
    names = [name.strip() for name in joiner.join(names).split(delimitor)]
    width = len(names)
    joined = _join(columns, joiner, null_handling="replace")
    fields = pc.split_pattern(joined, pattern=delimitor)
    lengths = np.asarray(pc.list_value_length(fields).to_numpy(zero_copy_only=False))
    uneven = np.flatnonzero(lengths != width)
    if uneven.size:
        row = int(uneven[0])
        raise DataFormatError(
            f"row {ids[row]!r} has {lengths[row]} fields when cut by delimitor {delimitor!r}, but the header "
            f"has {width} ({uneven.size} rows differ)",
            hint="set delimitor to the character that separates the file's columns",
        )
    flat: pa.Array[Any] = pc.list_flatten(fields)
    count = len(ids)
    cut = [flat.take(np.arange(j, count * width, width, dtype=np.int64)) for j in range(width)]
    return DenseFields(ids, names, cut)


def row_fields(raw: Dataset, delimitor: str) -> tuple[np.ndarray, list[list[str]]]:
    """Each row's value fields, for sparse and tag rows whose field count varies from row to row."""
    ids = row_ids(raw)
    columns = _value_columns(raw)
    if not columns:
        return ids, [[] for _ in range(len(ids))]
    # Ragged rows leave trailing columns empty (null); they are no fields.
    joined = columns[0] if len(columns) == 1 else _join(columns, upload_delimiter(raw), null_handling="skip")
    fields: pa.Array[Any] = pc.split_pattern(joined.fill_null(""), pattern=delimitor)
    return ids, cast(list[list[str]], fields.to_pylist())


def _join(columns: list[pa.Array[Any]], joiner: str, *, null_handling: str) -> pa.Array[Any]:
    """Each row's cells joined by ``joiner``; a null cell is skipped or taken as empty text."""
    join: Any = pc.binary_join_element_wise
    joined: pa.Array[Any] = join(*columns, joiner, null_handling=null_handling, null_replacement="")
    return joined
