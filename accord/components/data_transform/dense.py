"""Dense rows (``id,y,x0,x1,...``): pick the label and match-id columns, replace, cast to float64.

In fit every column that is not the label or a match id is a feature, in file order. In predict the
features are the training header, looked up by name in whatever order the predict table has them;
extra columns are dropped, a missing one is a :class:`DataMismatchError`. A predict table without the
label column gives rows without labels, as FATE's transform does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.data_transform.cells import Passes, TextColumn, convert_column
from accord.components.data_transform.labels import convert_labels
from accord.components.data_transform.model import Replacement, Settings
from accord.components.data_transform.raw import DenseFields, dense_fields
from accord.components.data_transform.text import TEXT, text_cells
from accord.components.sdk import Dataset
from accord.errors import DataFormatError, DataMismatchError


@dataclass
class Parsed:
    """Rows as DataTransform outputs them, and what the replacing passes did."""

    ids: np.ndarray
    header: list[str]
    features: np.ndarray
    labels: np.ndarray | None = None
    label_name: str | None = None
    label_mapping: dict[str, int] | None = None
    match_ids: np.ndarray | None = None
    match_id_name: str | None = None
    missing: Replacement = field(default_factory=Replacement)
    outlier: Replacement = field(default_factory=Replacement)
    # data_type "str": the features as written (object array of str); ``features`` is then empty.
    texts: np.ndarray | None = None


def find_column(names: Sequence[str], wanted: str) -> int | None:
    """The position of ``wanted``: an exact match, else the only case-insensitive one (FATE lower-cases
    label and type names from the conf)."""
    if wanted in names:
        return list(names).index(wanted)
    folded = [i for i, name in enumerate(names) if name.lower() == wanted.lower()]
    return folded[0] if len(folded) == 1 else None


def _match_columns(names: list[str], settings: Settings) -> tuple[list[int], int | None]:
    """The columns holding match ids, and the one whose values become each row's match id."""
    if not settings.with_match_id:
        return [], None
    if not names:
        raise DataFormatError("with_match_id is true but the table has no value columns")
    listed = list(settings.id_list)
    for name in listed:
        if find_column(names, name) is None:
            raise DataFormatError(
                f"the upload meta names match id column {name!r}, which the table does not have",
                hint=f"the table's columns are {', '.join(names)}",
            )
    positions = [i for i in (find_column(names, name) for name in listed) if i is not None]
    wanted = settings.match_id_name
    if wanted:
        chosen = find_column(names, wanted)
        if chosen is None or (listed and chosen not in positions):
            raise DataMismatchError(
                f"match_id_name {wanted!r} is not a match id column of this table",
                hint=f"choose one of {', '.join(listed or names)}",
            )
    elif len(positions) > 1:
        raise DataFormatError(
            f"the table has {len(positions)} match id columns ({', '.join(listed)})",
            hint="set match_id_name to the one this job uses",
        )
    else:
        # FATE: without a meta naming it, the first value column of an extend_sid upload is the match id.
        chosen = positions[0] if positions else 0
    return sorted({*positions, chosen}), chosen


@dataclass(frozen=True)
class DenseLayout:
    """Which value columns are the features (in header order), the label and the match id."""

    header: list[str]
    positions: list[int]
    label_position: int | None
    match_position: int | None


def dense_layout(names: list[str], settings: Settings, header: list[str] | None = None) -> DenseLayout:
    """Fit (``header`` None: every column not the label or a match id) or the training ``header``."""
    match_positions, match_position = _match_columns(names, settings)
    label_position: int | None = None
    if settings.with_label:
        label_position = find_column(names, settings.label_name)
        if label_position is None and header is None:
            raise DataFormatError(
                f"label column {settings.label_name!r} is not in the table; "
                f"its columns are {', '.join(names)}",
                hint="set label_name to the label column's name, or with_label false if this party has none",
            )
    skipped = {*match_positions, *([label_position] if label_position is not None else [])}
    if header is None:
        positions = [i for i in range(len(names)) if i not in skipped]
        header = [names[i] for i in positions]
        repeated = sorted(name for name, count in Counter(header).items() if count > 1)
        if repeated:
            raise DataFormatError(
                f"the table has more than one column named {', '.join(map(repr, repeated))}"
            )
    else:
        found = {name: find_column(names, name) for name in header}
        absent = [name for name, position in found.items() if position is None]
        if absent:
            raise DataMismatchError(
                f"the data lacks {len(absent)} of the training features: {', '.join(absent[:20])}",
                hint="predict on a table with the columns the model was trained on",
            )
        positions = [position for position in found.values() if position is not None]

    return DenseLayout(header, positions, label_position, match_position)


def read_dense(
    raw: Dataset,
    settings: Settings,
    passes: Passes,
    *,
    header: list[str] | None = None,
    label_mapping: dict[str, int] | None = None,
    check_cancelled: Callable[[], None] = lambda: None,
) -> Parsed:
    """Fit (``header`` None) or transform to the training ``header``."""
    fields = dense_fields(raw, settings.delimitor)
    names = fields.names
    ids = fields.ids
    layout = dense_layout(names, settings, header)
    header, positions = layout.header, layout.positions
    width = len(positions)
    if settings.data_type == TEXT:
        return _with_labels(
            _read_text(ids, header, [fields.columns[p] for p in positions]),
            fields,
            layout,
            settings,
            label_mapping,
        )
    features = np.empty((len(ids), width), dtype=np.float64)
    fills: tuple[dict[str, str], dict[str, str]] = ({}, {})
    rates: tuple[dict[str, float], dict[str, float]] = ({}, {})
    for j, position in enumerate(positions):
        check_cancelled()
        name = header[j]
        done = convert_column(
            TextColumn.of(name, fields.columns[position]),
            j,
            width,
            ids=ids,
            data_type=_column_type(settings, name),
            missing=passes.missing,
            outlier=passes.outlier,
            nan_cells=passes.nan_cells,
        )
        features[:, j] = done.values
        if done.missing_fill is not None:
            fills[0][name], rates[0][name] = done.missing_fill, done.missing_rate
        if done.outlier_fill is not None:
            fills[1][name], rates[1][name] = done.outlier_fill, done.outlier_rate

    missing, outlier = replacements(passes, fills, rates)
    parsed = Parsed(ids, header, features, missing=missing, outlier=outlier)
    return _with_labels(parsed, fields, layout, settings, label_mapping)


def _read_text(ids: np.ndarray, header: list[str], columns: list[pa.Array[Any]]) -> Parsed:
    texts = np.empty((len(ids), len(header)), dtype=object)
    for j, cells in enumerate(columns):
        texts[:, j] = text_cells(cells)
    return Parsed(ids, header, np.zeros((len(ids), 0)), texts=texts)


def _with_labels(
    parsed: Parsed,
    fields: DenseFields,
    layout: DenseLayout,
    settings: Settings,
    label_mapping: dict[str, int] | None,
) -> Parsed:
    """``parsed`` with the label and match-id columns of the rows."""
    ids, names = fields.ids, fields.names
    label_position, match_position = layout.label_position, layout.match_position
    if label_position is not None:
        parsed.labels, parsed.label_mapping = convert_labels(
            fields.columns[label_position], ids, settings.label_type, label_mapping
        )
        parsed.label_name = names[label_position]
    if match_position is not None:
        parsed.match_ids = np.asarray(
            [cell if cell is not None else "" for cell in fields.columns[match_position].to_pylist()],
            dtype=object,
        )
        parsed.match_id_name = names[match_position]
    return parsed


def replacements(
    passes: Passes,
    fills: tuple[dict[str, str], dict[str, str]],
    rates: tuple[dict[str, float], dict[str, float]],
) -> tuple[Replacement, Replacement]:
    """What the missing and outlier passes did, as the model keeps it."""
    missing = Replacement(
        enabled=passes.missing is not None,
        method=passes.missing.method if passes.missing else None,
        values=passes.missing_values,
        fill=fills[0],
        rate=rates[0],
    )
    outlier = Replacement(
        enabled=passes.outlier is not None,
        method=passes.outlier.method if passes.outlier else None,
        values=passes.outlier.values if passes.outlier else None,
        fill=fills[1],
        rate=rates[1],
    )
    return missing, outlier


def _column_type(settings: Settings, name: str) -> str:
    for column, data_type in settings.exclusive_data_type.items():
        if column.lower() == name.lower():
            return data_type
    return settings.data_type
