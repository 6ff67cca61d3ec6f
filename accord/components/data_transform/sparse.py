"""Sparse rows: svmlight (``label idx:val idx:val``) and tag / tag:value (``tag1,tag2`` or ``t1:v1,t2:v2``).

A row's fields are cut by ``delimitor``; leading fields are the match id(s) (with_match_id, as many as
the upload meta's id_range, else one) and then the label (with_label); every other field is a feature.
Empty fields (a trailing delimiter) are skipped. As in FATE:

- svmlight: the header is ``x0`` .. ``x<largest index>`` over the fit data; absent indices are 0;
- tag: the header is every tag in the fit data, sorted; a tag without value is 1 where present and 0
  where absent; with tag_with_value and missing_fill an absent tag is a missing cell and is filled;
- predict keeps the training header: unknown tags are dropped, an svmlight index past it is an error;
- the label column is named ``label``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from accord.components.data_transform.cells import Passes, TextColumn, ValueSet, convert_column, not_a_number
from accord.components.data_transform.dense import Parsed, replacements
from accord.components.data_transform.labels import convert_labels
from accord.components.data_transform.model import Settings
from accord.components.data_transform.params import INT_TYPES
from accord.components.data_transform.raw import row_fields
from accord.components.sdk import Dataset
from accord.errors import DataFormatError, DataMismatchError

SPARSE_LABEL_NAME = "label"
SVMLIGHT_PREFIX = "x"


class _Cells:
    """Feature cells gathered row by row: (row, column key, value text)."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.keys: list[str] = []
        self.texts: list[str] = []


def splitter(settings: Settings) -> Callable[[str, object], tuple[str, str]]:
    """How a field becomes (column key, value text): ``index:value`` (svmlight) or a tag."""
    return functools.partial(_split_svmlight if settings.input_format == "sparse" else _split_tag, settings)


def _split_svmlight(settings: Settings, token: str, row_id: object) -> tuple[str, str]:
    index, colon, value = token.partition(":")
    if not colon or ":" in value or not (index.strip().isascii() and index.strip().isdigit()):
        raise DataFormatError(
            f"row {row_id!r}: field {token!r} is not index:value",
            hint=f"svmlight fields are <index>:<value>, cut by delimitor {settings.delimitor!r}",
        )
    return index.strip(), value.strip()


def _split_tag(settings: Settings, token: str, row_id: object) -> tuple[str, str]:
    if not settings.tag_with_value:
        return token, "1"
    separator = settings.tag_value_delimitor
    parts = token.split(separator)
    if len(parts) != 2:
        raise DataFormatError(
            f"row {row_id!r}: field {token!r} is not tag{separator}value",
            hint="set tag_value_delimitor to the tag/value separator, or tag_with_value false",
        )
    return parts[0].strip(), parts[1].strip()


def gather(
    ids: np.ndarray,
    rows: list[list[str]],
    settings: Settings,
    split: Callable[[str, object], tuple[str, str]],
    check_cancelled: Callable[[], None],
) -> tuple[_Cells, list[str] | None, list[str] | None]:
    """The feature cells, label texts and match ids of every row."""
    cells = _Cells()
    labels: list[str] | None = [] if settings.with_label else None
    match_ids: list[str] | None = [] if settings.with_match_id else None
    leading = (settings.id_range or 1) if settings.with_match_id else 0
    if settings.with_match_id and settings.match_id_index >= leading:
        raise DataFormatError(
            f"match_id_index {settings.match_id_index} is past the {leading} match id field(s) of each row",
            hint="match_id_index counts from 0 among the leading id fields (the upload meta's id_range)",
        )
    needed = leading + (1 if settings.with_label else 0)
    for r, fields in enumerate(rows):
        if r % 4096 == 0:
            check_cancelled()
        if len(fields) < needed:
            what = (
                "a match id and a label"
                if settings.with_match_id and settings.with_label
                else ("a label" if settings.with_label else "a match id")
            )
            raise DataFormatError(
                f"row {ids[r]!r} has {len(fields)} fields, too few to hold {what}",
                hint="set with_label / with_match_id to what the file holds",
            )
        if match_ids is not None:
            match_ids.append(fields[settings.match_id_index].strip())
        if labels is not None:
            labels.append(fields[leading])
        for field in fields[needed:]:
            token = field.strip()
            if not token:
                continue
            key, text = split(token, ids[r])
            cells.rows.append(r)
            cells.keys.append(key)
            cells.texts.append(text)
    return cells, labels, match_ids


def _finish(
    parsed: Parsed,
    settings: Settings,
    labels: list[str] | None,
    match_ids: list[str] | None,
    label_mapping: dict[str, int] | None,
) -> Parsed:
    if labels is not None:
        parsed.labels, parsed.label_mapping = convert_labels(
            labels, parsed.ids, settings.label_type, label_mapping
        )
        parsed.label_name = SPARSE_LABEL_NAME
    if match_ids is not None:
        parsed.match_ids = np.asarray(match_ids, dtype=object)
        parsed.match_id_name = settings.match_id_name or "match_id"
    return parsed


def read_svmlight(
    raw: Dataset,
    settings: Settings,
    nan_cells: ValueSet,
    *,
    header: list[str] | None = None,
    label_mapping: dict[str, int] | None = None,
    check_cancelled: Callable[[], None] = lambda: None,
) -> Parsed:
    ids, rows = row_fields(raw, settings.delimitor)
    cells, labels, match_ids = gather(ids, rows, settings, splitter(settings), check_cancelled)
    columns = np.asarray([int(key) for key in cells.keys], dtype=np.int64)
    if header is None:
        if not columns.size:
            raise DataFormatError(
                "the sparse rows hold no feature values", hint="check input_format and delimitor"
            )
        header = [f"{SVMLIGHT_PREFIX}{i}" for i in range(int(columns.max()) + 1)]
    elif columns.size and int(columns.max()) >= len(header):
        at = int(np.argmax(columns))
        raise DataMismatchError(
            f"row {ids[cells.rows[at]]!r} has feature index {columns[at]}, past the {len(header)} features "
            "the model was trained on",
            hint="predict on data with the training data's feature indices",
        )
    rows_at = np.asarray(cells.rows, dtype=np.int64)
    names = [f"{SVMLIGHT_PREFIX}{c}" for c in columns]
    values = _numbers(cells.texts, [ids[r] for r in rows_at], names, settings.data_type, nan_cells)
    features = np.zeros((len(ids), len(header)), dtype=np.float64)
    features[rows_at, columns] = values
    return _finish(Parsed(ids, header, features), settings, labels, match_ids, label_mapping)


def read_tag(
    raw: Dataset,
    settings: Settings,
    passes: Passes,
    *,
    header: list[str] | None = None,
    label_mapping: dict[str, int] | None = None,
    check_cancelled: Callable[[], None] = lambda: None,
) -> Parsed:
    ids, rows = row_fields(raw, settings.delimitor)
    cells, labels, match_ids = gather(ids, rows, settings, splitter(settings), check_cancelled)
    if header is None:
        header = sorted(set(cells.keys))
        if not header:
            raise DataFormatError("the tag rows hold no tags", hint="check input_format and delimitor")
    position = {tag: j for j, tag in enumerate(header)}
    known = np.asarray([key in position for key in cells.keys], dtype=bool)
    rows_at = np.asarray(cells.rows, dtype=np.int64)[known]
    columns = np.asarray([position[key] for key in cells.keys if key in position], dtype=np.int64)
    texts = [text for text, keep in zip(cells.texts, known, strict=True) if keep]
    parsed = Parsed(ids, header, np.zeros((len(ids), len(header)), dtype=np.float64))
    if settings.tag_with_value and passes.missing is not None:
        # Absent tags are missing cells here, as FATE fills them: rebuild the text table and fill it.
        table = np.full((len(ids), len(header)), "", dtype=object)
        table[rows_at, columns] = texts
        fills: dict[str, str] = {}
        rates: dict[str, float] = {}
        for j, name in enumerate(header):
            check_cancelled()
            done = convert_column(
                TextColumn.of(name, pa.array(table[:, j], type=pa.string())),
                j,
                len(header),
                ids=ids,
                data_type=settings.data_type,
                missing=passes.missing,
                outlier=None,
                nan_cells=passes.nan_cells,
            )
            parsed.features[:, j] = done.values
            if done.missing_fill is not None:
                fills[name], rates[name] = done.missing_fill, done.missing_rate
        parsed.missing, parsed.outlier = replacements(
            Passes(passes.missing, None, passes.missing_values), (fills, {}), (rates, {})
        )
    else:
        names = [header[c] for c in columns]
        row_ids = [ids[r] for r in rows_at]
        parsed.features[rows_at, columns] = _numbers(
            texts, row_ids, names, settings.data_type, passes.nan_cells
        )
    return _finish(parsed, settings, labels, match_ids, label_mapping)


def _numbers(
    texts: list[str], row_ids: list[object], names: list[str], data_type: str, nan_cells: ValueSet
) -> np.ndarray:
    """The cells' values as float64, NaN for missing markers; any other value that is not a number is
    an error naming its row and column."""
    column = TextColumn.of("", pa.array(texts, type=pa.string()))
    blank = nan_cells.mask(column)
    bad = np.flatnonzero(~blank & ~column.parsed)
    if bad.size:
        at = int(bad[0])
        raise not_a_number(row_ids[at], names[at], texts[at], data_type, bad.size)
    values = column.numbers.copy()
    values[blank] = np.nan
    if data_type in INT_TYPES:
        fractional = np.flatnonzero(~blank & np.isfinite(values) & (np.floor(values) != values))
        if fractional.size:
            at = int(fractional[0])
            raise DataFormatError(
                f"row {row_ids[at]!r}, column {names[at]!r}: {texts[at]!r} is not an integer "
                f"but data_type is {data_type!r}",
                hint="set data_type to float64",
            )
    return values
