"""Text cells to float64 features: which cells are missing or outliers, what replaces them, and parsing.

FATE runs missing fill, then outlier replace, on the cells as text, then casts what is left to the
data type, turning the missing markers into NaN. The same order holds here, column by column: a cell
is matched against a value list by its text (and, for numeric list items, by its number, so ``-9999``
also catches ``-9999.0``); fill values come from the column's other cells (min / max / mean), from the
conf (designated) or are 0 (no method); a cell that is none of these and is not a number is an error
that names its row, column and value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.components.data_transform.params import INT_TYPES, Scalar
from accord.errors import ComponentParameterError, DataFormatError

# FATE's missing markers: its imputer's list and the list its dense reader turns into NaN, together.
DEFAULT_MISSING: tuple[str, ...] = ("", "none", "None", "null", "NULL", "na", "NA")


@dataclass(frozen=True)
class TextColumn:
    """One feature column: its cells as trimmed text and, where the text is a number, that number."""

    name: str
    texts: pa.Array[Any]
    numbers: np.ndarray
    parsed: np.ndarray

    @classmethod
    def of(cls, name: str, cells: pa.Array[Any] | pa.ChunkedArray[Any]) -> TextColumn:
        array: pa.Array[Any] = cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells
        if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
            array = pc.cast(array, pa.string())
        texts: pa.Array[Any] = pc.utf8_trim_whitespace(array.fill_null(""))
        numbers, parsed = parse_numbers(texts)
        return cls(name, texts, numbers, parsed)

    def __len__(self) -> int:
        return len(self.texts)


def parse_numbers(texts: pa.Array[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Each text as float64 (NaN where it is not a number) and whether it was a number."""
    # Empty cells (the usual missing marker) are set aside so that they do not fail the fast cast.
    length: Any = pc.binary_length
    empty = np.asarray(length(texts).to_numpy(zero_copy_only=False)) == 0
    try:
        filled = texts.filter(pa.array(~empty)) if empty.any() else texts
        numbers = np.full(len(texts), math.nan)
        numbers[~empty] = pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False)
        return numbers, ~empty
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Some cell is not a number: parse each distinct text once.
    distinct = pc.unique(texts)
    values = np.empty(len(distinct), dtype=np.float64)
    ok = np.empty(len(distinct), dtype=bool)
    for i, text in enumerate(distinct.to_pylist()):
        try:
            values[i], ok[i] = float(str(text)), True
        except (TypeError, ValueError):
            values[i], ok[i] = math.nan, False
    positions = pc.index_in(texts, value_set=distinct).to_numpy(zero_copy_only=False)
    return values[positions], ok[positions]


class ValueSet:
    """Cell values counting as missing (or as outliers): texts, plus numbers for numeric items."""

    def __init__(self, items: Sequence[Scalar | None] | None) -> None:
        chosen: Sequence[Scalar | None] = DEFAULT_MISSING if items is None else items
        self.items: list[Scalar | None] = list(chosen)
        self.texts = sorted({_as_text(item) for item in chosen})
        numbers = set()
        for item in chosen:
            number = _as_number(item)
            if number is not None:
                numbers.add(number)
        self.numbers = sorted(numbers)
        self._text_set = pa.array(self.texts, type=pa.string())

    def mask(self, column: TextColumn) -> np.ndarray:
        found = pc.is_in(column.texts, value_set=self._text_set).to_numpy(zero_copy_only=False)
        mask = np.asarray(found, dtype=bool)
        if self.numbers:
            mask |= column.parsed & np.isin(column.numbers, self.numbers)
        return mask

    def holds(self, text: str) -> bool:
        if text in self.texts:
            return True
        number = _as_number(text)
        return number is not None and number in self.numbers


def _as_text(item: Scalar | None) -> str:
    return str(item).strip()


def _as_number(item: Scalar | None) -> float | None:
    if isinstance(item, bool) or item is None:
        return None
    try:
        number = float(item)
    except ValueError:
        return None
    return None if math.isnan(number) else number


@dataclass(frozen=True)
class Pass:
    """One replacing pass as it applies to a table: which cells, and what replaces them per column.

    ``values`` are the conf's list (None: the built-in missing markers). ``fill`` is None in fit (the
    replacements are computed by ``method``) and the stored replacements in predict.
    """

    values: list[Scalar | None] | None
    method: str | None = None
    designated: Scalar | list[Scalar | None] | None = None
    fill: list[str] | None = None
    cells: ValueSet = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cells", ValueSet(self.values))


@dataclass(frozen=True)
class Passes:
    """The passes a run makes, and the cells that become NaN when no pass touches them: the
    ``missing_impute`` list (FATE's, even with missing_fill off) or the built-in markers."""

    missing: Pass | None
    outlier: Pass | None
    missing_values: list[Scalar | None] | None
    nan_cells: ValueSet = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nan_cells", ValueSet(self.missing_values))


def fill_values(passing: Pass, column: TextColumn, index: int, width: int, hit: np.ndarray) -> str:
    """The replacement for ``column``'s hit cells, as text."""
    if passing.fill is not None:
        return passing.fill[index]
    if passing.method is None:
        return "0"
    if passing.method == "designated":
        given = passing.designated
        if isinstance(given, list):
            if len(given) != width:
                raise ComponentParameterError(
                    f"a designated replacement list has {len(given)} values but the data has {width} "
                    "feature columns",
                    hint="give one value per feature column, in header order, or a single value",
                )
            given = given[index]
        if _as_number(given) is None:
            raise ComponentParameterError(
                f"the designated replacement {given!r} for column {column.name!r} is not a number",
                hint="give default_value / outlier_replace_value as numbers",
            )
        return _as_text(given)
    rest = column.numbers[~hit & column.parsed]
    with warnings.catch_warnings():
        # A column with no other values gives NaN, as FATE's column statistics do.
        warnings.simplefilter("ignore", RuntimeWarning)
        if passing.method == "min":
            value = float(np.nanmin(rest)) if rest.size else math.nan
        elif passing.method == "max":
            value = float(np.nanmax(rest)) if rest.size else math.nan
        else:
            value = float(np.nanmean(rest)) if rest.size else math.nan
    return repr(value)


@dataclass
class ColumnResult:
    values: np.ndarray
    missing_fill: str | None
    missing_rate: float
    outlier_fill: str | None
    outlier_rate: float


def convert_column(
    column: TextColumn,
    index: int,
    width: int,
    *,
    ids: np.ndarray,
    data_type: str,
    missing: Pass | None,
    outlier: Pass | None,
    nan_cells: ValueSet,
) -> ColumnResult:
    """Missing fill, then outlier replace, then the cast to float64 of one column."""
    rows = len(column)
    values = column.numbers.copy()
    replaced = np.zeros(rows, dtype=bool)
    missing_fill: str | None = None
    missing_rate = 0.0
    if missing is not None:
        hit = missing.cells.mask(column)
        missing_fill = fill_values(missing, column, index, width, hit)
        values[hit] = float(missing_fill)
        replaced |= hit
        missing_rate = float(hit.mean()) if rows else 0.0
    outlier_fill: str | None = None
    outlier_rate = 0.0
    if outlier is not None:
        # A filled cell now reads as its fill value, and is an outlier if that value is one.
        hit = outlier.cells.mask(column) & ~replaced
        if missing_fill is not None and outlier.cells.holds(missing_fill):
            hit |= replaced
        outlier_column = TextColumn(column.name, column.texts, values, column.parsed | replaced)
        outlier_fill = fill_values(outlier, outlier_column, index, width, hit)
        values[hit] = float(outlier_fill)
        replaced |= hit
        outlier_rate = float(hit.mean()) if rows else 0.0
    untouched = ~replaced
    blank = untouched & nan_cells.mask(column)
    values[blank] = math.nan
    bad = untouched & ~blank & ~column.parsed
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise not_a_number(ids[row], column.name, column.texts[row].as_py(), data_type, int(bad.sum()))
    if data_type in INT_TYPES:
        given = untouched & ~blank & np.isfinite(values)
        fractional = given & (np.floor(values) != values)
        if fractional.any():
            row = int(np.flatnonzero(fractional)[0])
            raise DataFormatError(
                f"row {ids[row]!r}, column {column.name!r}: {column.texts[row].as_py()!r} is not an integer "
                f"but data_type is {data_type!r}",
                hint="set data_type (or this column's exclusive_data_type) to float64",
            )
    return ColumnResult(values, missing_fill, missing_rate, outlier_fill, outlier_rate)


def not_a_number(
    row_id: object, column: str, value: object, data_type: str, count: int = 1
) -> DataFormatError:
    others = f" ({count - 1} more such cells in this column)" if count > 1 else ""
    text_note = " (or, for text, set data_type 'str' and one-hot encode it)" if data_type != "str" else ""
    return DataFormatError(
        f"row {row_id!r}, column {column!r}: {value!r} is not a number{others}",
        hint=(
            "if it marks a missing value set missing_fill true and list it in missing_impute; if it is an "
            "outlier set outlier_replace true and list it in outlier_impute; otherwise remove the column "
            f"from the uploaded file{text_note}"
        ),
    )
