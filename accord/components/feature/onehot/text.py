"""One-hot encoding of text features (DataTransform's data_type "str"), as FATE 1.11 names them.

Each distinct text v of a chosen column c becomes the column ``f"{c}_{v}"`` (``x0_A``), values in
sorted order (FATE keeps a set's order, which for text varies from run to run; sorted is what
pandas.get_dummies gives). A column not chosen keeps its place: when every one of them holds numbers
written as text (each cell reads as a float) the output is a numeric dataset that every component
reads; otherwise the output keeps text (the encoded cells as "0"/"1", the others as written), as
FATE's does, and a numeric component given it refuses it naming those columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.sdk import Dataset
from accord.components.sdk.dataset import FEATURES, TEXT_FEATURES
from accord.errors import DataFormatError

TEXT = "text"
NUMBER = "number"


def numeric_cells(cells: np.ndarray) -> np.ndarray | None:
    """The cells as float64, or None when one of them is not a number."""
    try:
        return np.asarray([float(cell) for cell in cells], dtype=np.float64)
    except ValueError:
        return None


def text_values(rows: Dataset, chosen: list[int]) -> tuple[list[np.ndarray], set[str]]:
    """Each chosen column's distinct texts in these rows, and the columns not chosen that hold text."""
    texts = rows.text_features()
    found = [np.unique(texts[:, index].astype(str)) for index in chosen]
    kept = set(range(len(rows.header))) - set(chosen)
    # Distinct cells are enough to tell whether a column reads as numbers.
    text_columns = {
        rows.header[j] for j in sorted(kept) if numeric_cells(np.unique(texts[:, j].astype(str))) is None
    }
    return found, text_columns


def encode_text(model: Mapping[str, Any], rows: Dataset) -> pa.Table:
    """``rows`` (text features) encoded by ``model``: numeric features unless the model keeps text."""
    texts = rows.text_features()
    position = {name: index for index, name in enumerate(rows.header)}
    col_map = model["col_map"]
    keep_text = bool(model.get("text_columns"))
    parts: list[np.ndarray] = []
    for name in model["header"]:
        column = texts[:, position[name]].astype(str)
        if name in col_map:
            known = np.asarray(col_map[name]["values"], dtype=str)
            hot = column[:, None] == known[None, :]
            parts.append(np.where(hot, "1", "0") if keep_text else hot.astype(np.float64))
        elif keep_text:
            parts.append(column[:, None])
        else:
            parts.append(_as_numbers(rows, name, column)[:, None])
    width = len(model["result_header"])
    table = rows.table.drop_columns([c for c in (FEATURES, TEXT_FEATURES) if c in rows.table.column_names])
    if not width:
        return table
    if keep_text:
        matrix = np.hstack(parts) if parts else np.zeros((len(rows), 0), dtype=str)
        flat = pa.array(matrix.astype(object).reshape(-1).tolist(), type=pa.string())
        return table.append_column(TEXT_FEATURES, pa.FixedSizeListArray.from_arrays(flat, width))
    numbers = np.hstack(parts) if parts else np.zeros((len(rows), 0))
    flat_numbers = pa.array(np.ascontiguousarray(numbers).reshape(-1), type=pa.float64())
    return table.append_column(FEATURES, pa.FixedSizeListArray.from_arrays(flat_numbers, width))


def _as_numbers(rows: Dataset, name: str, column: np.ndarray) -> np.ndarray:
    numbers = numeric_cells(column)
    if numbers is not None:
        return numbers
    for row, cell in enumerate(column):
        if numeric_cells(np.asarray([cell])) is None:
            raise DataFormatError(
                f"row {rows.ids()[row]!r}, column {name!r}: {cell!r} is text, but the one-hot model "
                "was fitted on rows where this column (not encoded) held numbers",
                hint="add the column to transform_col_indexes / transform_col_names and fit again, or "
                "predict on rows whose column holds numbers",
            )
    raise AssertionError("unreachable: some cell was not a number")  # pragma: no cover


def text_columns_of(header: Sequence[str], found: set[str]) -> list[str]:
    """The columns left as text, in header order."""
    return [name for name in header if name in found]
