"""DataTransform on a block table: learn the model over every partition, then transform each one.

Fit needs what only the whole table says: the header of sparse and tag rows, the numbering of text
labels, and each replacing pass's fill values and rates. So it runs small passes over the blocks (a
summary per partition, combined in partition order): the header and labels, then the cells the
missing fill is computed from, then (once the missing fills are known) those of the outlier replace.
Every block is then transformed with the learned model exactly as predict does, which puts the same
values in the same cells as a fit over the whole table: the fills are the same numbers (a mean is
summed per partition, so it may differ from a one-pass mean in the last bits), and the rows keep
their order.

The functions handed to the engine are module level (they run in other processes).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from accord.components.data_transform.cells import Pass, Passes, TextColumn, fill_values, parse_numbers
from accord.components.data_transform.dense import DenseLayout, Parsed, dense_layout, replacements
from accord.components.data_transform.model import Replacement, Settings, TransformModel
from accord.components.data_transform.raw import dense_fields, row_fields
from accord.components.data_transform.sparse import SPARSE_LABEL_NAME, SVMLIGHT_PREFIX, gather, splitter
from accord.components.sdk import Dataset
from accord.computing import Block, BlockTable
from accord.errors import DataFormatError


@dataclass
class ColumnStats:
    """What a fill is computed from: the column's cells that are numbers and not hit by the pass."""

    rows: int = 0
    hits: int = 0
    low: float = math.nan
    high: float = math.nan
    total: float = 0.0
    count: int = 0

    def add(self, other: ColumnStats) -> ColumnStats:
        return ColumnStats(
            self.rows + other.rows,
            self.hits + other.hits,
            float(np.fmin(self.low, other.low)),
            float(np.fmax(self.high, other.high)),
            self.total + other.total,
            self.count + other.count,
        )

    @classmethod
    def of(cls, column: TextColumn, hit: np.ndarray) -> ColumnStats:
        rest = column.numbers[~hit & column.parsed]
        blank = np.isnan(rest)
        valid = rest[~blank]
        # As numpy's nanmean sums: NaN cells as zeros, in place.
        zeroed = np.where(blank, 0.0, rest)
        return cls(
            rows=len(column),
            hits=int(hit.sum()),
            low=float(valid.min()) if valid.size else math.nan,
            high=float(valid.max()) if valid.size else math.nan,
            total=float(np.sum(zeroed)),
            count=int(valid.size),
        )

    def fill(self, method: str) -> str:
        if method == "min":
            return repr(self.low)
        if method == "max":
            return repr(self.high)
        return repr(self.total / self.count if self.count else math.nan)


@dataclass
class Summary:
    """One partition's (or several combined) contribution to what fit learns."""

    rows: int = 0
    stats: dict[str, ColumnStats] = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)
    labels_numeric: bool = True
    keys: set[str] = field(default_factory=set)
    cells: int = 0
    largest_index: int = -1


def combine(left: Summary, right: Summary) -> Summary:
    stats = dict(left.stats)
    for name, more in right.stats.items():
        stats[name] = stats[name].add(more) if name in stats else more
    return Summary(
        left.rows + right.rows,
        stats,
        left.labels | right.labels,
        left.labels_numeric and right.labels_numeric,
        left.keys | right.keys,
        left.cells + right.cells,
        max(left.largest_index, right.largest_index),
    )


@dataclass(frozen=True)
class RawMeta:
    """What a raw block needs besides its rows to be read as the Reader's dataset."""

    header: tuple[str, ...]
    sid_name: str
    extra: Mapping[str, Any]

    def dataset(self, block: Block | None) -> Dataset:
        """The block as the Reader's dataset (None: a dataset of no rows, for its meta)."""
        if isinstance(block, bytes):
            raise DataFormatError("a raw table's partition is not a batch of rows")
        rows = (
            pa.table({"sid": pa.array([], pa.string())}) if block is None else pa.Table.from_batches([block])
        )
        return Dataset(rows, "raw", self.header, self.sid_name, extra=self.extra)


def _label_summary(summary: Summary, texts: list[str]) -> None:
    trimmed = [text.strip() for text in texts]
    summary.labels = set(trimmed)
    summary.labels_numeric = bool(parse_numbers(pa.array(trimmed, type=pa.string()))[1].all())


# ---- dense rows -----------------------------------------------------------------------------


def dense_names(meta: RawMeta, schema: pa.Schema, settings: Settings) -> list[str]:
    """The value columns' names as DataTransform cuts them (no rows needed)."""
    empty = pa.Table.from_batches([], schema)
    return dense_fields(
        Dataset(empty, "raw", meta.header, meta.sid_name, extra=meta.extra), settings.delimitor
    ).names


def dense_pass(
    meta: RawMeta,
    settings: Settings,
    layout: DenseLayout,
    passes: Passes,
    missing_fills: list[str] | None,
    block: Block,
) -> Summary:
    """The cells of each feature a pass learns from: the missing fill's (``missing_fills`` None) or,
    with the missing fills known, the outlier replace's."""
    raw = meta.dataset(block)
    fields = dense_fields(raw, settings.delimitor)
    summary = Summary(rows=len(fields.ids))
    if missing_fills is None and layout.label_position is not None and settings.label_type == "str":
        _label_summary(
            summary, [str(cell or "") for cell in fields.columns[layout.label_position].to_pylist()]
        )
    for j, position in enumerate(layout.positions):
        column = TextColumn.of(layout.header[j], fields.columns[position])
        stats = _column_pass(column, passes, None if missing_fills is None else missing_fills[j])
        if stats is not None:
            summary.stats[layout.header[j]] = stats
    return summary


def _column_pass(column: TextColumn, passes: Passes, missing_fill: str | None) -> ColumnStats | None:
    if missing_fill is None:
        return ColumnStats.of(column, passes.missing.cells.mask(column)) if passes.missing else None
    outlier = passes.outlier
    if outlier is None:
        return None
    # As convert_column: missing cells read as their fill, and are outliers if that value is one.
    values = column.numbers.copy()
    replaced = passes.missing.cells.mask(column) if passes.missing else np.zeros(len(column), dtype=bool)
    values[replaced] = float(missing_fill)
    hit = outlier.cells.mask(column) & ~replaced
    if passes.missing is not None and outlier.cells.holds(missing_fill):
        hit |= replaced
    return ColumnStats.of(TextColumn(column.name, column.texts, values, column.parsed | replaced), hit)


# ---- sparse and tag rows --------------------------------------------------------------------


def sparse_pass(
    meta: RawMeta, settings: Settings, passes: Passes, header: list[str] | None, block: Block
) -> Summary:
    """Header and labels (``header`` None), or the missing-fill cells of tag:value rows."""
    raw = meta.dataset(block)
    ids, rows = row_fields(raw, settings.delimitor)
    tagged = settings.input_format == "tag"
    cells, labels, _ = gather(ids, rows, settings, splitter(settings), lambda: None)
    summary = Summary(rows=len(ids), cells=len(cells.keys))
    if header is None:
        if labels is not None and settings.label_type == "str":
            _label_summary(summary, labels)
        if tagged:
            summary.keys = set(cells.keys)
        elif cells.keys:
            summary.largest_index = max(int(key) for key in cells.keys)
        return summary
    position = {tag: j for j, tag in enumerate(header)}
    table = np.full((len(ids), len(header)), "", dtype=object)
    for row, key, text in zip(cells.rows, cells.keys, cells.texts, strict=True):
        table[row, position[key]] = text
    for j, name in enumerate(header):
        column = TextColumn.of(name, pa.array(table[:, j], type=pa.string()))
        stats = _column_pass(column, passes, None)
        if stats is not None:
            summary.stats[name] = stats
    return summary


# ---- the model, and applying it ------------------------------------------------------------


def _fills(
    passing: Pass, header: list[str], stats: Mapping[str, ColumnStats]
) -> tuple[list[str], dict[str, float]]:
    fills, rates = [], {}
    for j, name in enumerate(header):
        found = stats[name]
        if passing.method in ("min", "max", "mean"):
            fills.append(found.fill(passing.method))
        else:
            # No method ("0") or designated values: nothing learned from the cells.
            no_cells = TextColumn.of(name, pa.array([], type=pa.string()))
            fills.append(fill_values(passing, no_cells, j, len(header), np.zeros(0, dtype=bool)))
        rates[name] = found.hits / found.rows if found.rows else 0.0
    return fills, rates


def label_mapping(
    summary: Summary, settings: Settings, with_labels: bool, known: Mapping[str, int] | None = None
) -> dict[str, int] | None:
    """As convert_labels numbers text labels over the whole table: the known numbering (predict) and
    the labels it lacks after it, in sorted order; None when every label is a number and none is known."""
    if not with_labels or settings.label_type != "str" or (known is None and summary.labels_numeric):
        return None
    mapping = dict(known or {})
    start = max(mapping.values(), default=-1) + 1
    mapping.update({label: start + i for i, label in enumerate(sorted(summary.labels - set(mapping)))})
    return mapping


def predict_rows(table: BlockTable, meta: RawMeta, model: TransformModel, settings: Settings) -> Parsed:
    """What applying ``model`` to ``table`` finds: its label and match id columns, and the numbering
    of its text labels (the model's, then the labels it lacks in sorted order)."""
    no_passes = Passes(None, None, None)
    label_name = match_id_name = None
    if settings.input_format == "dense":
        names = dense_names(meta, table.take(0).schema, settings)
        layout = dense_layout(names, settings, model.header)
        if layout.label_position is not None:
            label_name = names[layout.label_position]
        if layout.match_position is not None:
            match_id_name = names[layout.match_position]
        part = functools.partial(dense_pass, meta, settings, layout, no_passes, None)
    else:
        label_name = SPARSE_LABEL_NAME if settings.with_label else None
        match_id_name = (settings.match_id_name or "match_id") if settings.with_match_id else None
        part = functools.partial(sparse_pass, meta, settings, no_passes, None)
    mapping = None
    if label_name is not None and settings.label_type == "str":
        found = table.aggregate(Summary(), part, combine)
        mapping = label_mapping(found, settings, True, model.label_mapping)
    return learned_rows(
        model.header,
        label_name=label_name,
        label_mapping=mapping,
        match_id_name=match_id_name,
        missing=model.missing,
        outlier=model.outlier,
    )


def learn(
    table: BlockTable, meta: RawMeta, settings: Settings, passes: Passes
) -> tuple[TransformModel, Parsed]:
    """The model fit learns from the raw block table ``table``, and a row-less Parsed of what it
    found (header, labels, match ids, replacements) for the summary and the output's meta."""
    if settings.input_format == "dense":
        learned = _learn_dense(table, meta, settings, passes)
    else:
        learned = _learn_sparse(table, meta, settings, passes)
    model = TransformModel(
        settings=settings.model_copy(update={"match_id_name": learned.match_id_name or ""}),
        header=learned.header,
        sid_name=meta.sid_name,
        label_name=learned.label_name,
        label_mapping=learned.label_mapping,
        missing=learned.missing,
        outlier=learned.outlier,
    )
    return model, learned


def learned_rows(header: list[str], **found: Any) -> Parsed:
    parsed = Parsed(np.zeros(0, dtype=object), header, np.zeros((0, len(header))), **found)
    # Labels present (as a row-less column): what the output's meta records of them.
    if parsed.label_name is not None:
        parsed.labels = np.zeros(0)
    return parsed


def _learn_dense(table: BlockTable, meta: RawMeta, settings: Settings, passes: Passes) -> Parsed:
    names = dense_names(meta, table.take(0).schema, settings)
    layout = dense_layout(names, settings)
    header = layout.header
    if not header:
        raise DataFormatError(
            "the rows hold no feature columns",
            hint="a party needs at least one feature; check with_label, label_name and with_match_id",
        )
    first = table.aggregate(
        Summary(), functools.partial(dense_pass, meta, settings, layout, passes, None), combine
    )
    label_name = names[layout.label_position] if layout.label_position is not None else None
    fills: tuple[dict[str, str], dict[str, str]] = ({}, {})
    rates: tuple[dict[str, float], dict[str, float]] = ({}, {})
    missing_fills = ["0"] * len(header)
    if passes.missing is not None:
        missing_fills, missing_rates = _fills(passes.missing, header, first.stats)
        fills[0].update(zip(header, missing_fills, strict=True))
        rates[0].update(missing_rates)
    if passes.outlier is not None:
        second = table.aggregate(
            Summary(), functools.partial(dense_pass, meta, settings, layout, passes, missing_fills), combine
        )
        outlier_fills, outlier_rates = _fills(passes.outlier, header, second.stats)
        fills[1].update(zip(header, outlier_fills, strict=True))
        rates[1].update(outlier_rates)
    missing, outlier = replacements(passes, fills, rates)
    return learned_rows(
        header,
        label_name=label_name,
        label_mapping=label_mapping(first, settings, label_name is not None),
        match_id_name=names[layout.match_position] if layout.match_position is not None else None,
        missing=missing,
        outlier=outlier,
    )


def _learn_sparse(table: BlockTable, meta: RawMeta, settings: Settings, passes: Passes) -> Parsed:
    first = table.aggregate(Summary(), functools.partial(sparse_pass, meta, settings, passes, None), combine)
    if settings.input_format == "tag":
        header = sorted(first.keys)
        if not header:
            raise DataFormatError("the tag rows hold no tags", hint="check input_format and delimitor")
    else:
        if not first.cells:
            raise DataFormatError(
                "the sparse rows hold no feature values", hint="check input_format and delimitor"
            )
        header = [f"{SVMLIGHT_PREFIX}{i}" for i in range(first.largest_index + 1)]
    missing, outlier = Replacement(), Replacement()
    if settings.input_format == "tag" and settings.tag_with_value and passes.missing is not None:
        cells = table.aggregate(
            Summary(), functools.partial(sparse_pass, meta, settings, passes, header), combine
        )
        fills, rates = _fills(passes.missing, header, cells.stats)
        missing, outlier = replacements(
            Passes(passes.missing, None, passes.missing_values),
            (dict(zip(header, fills, strict=True)), {}),
            (rates, {}),
        )
    return learned_rows(
        header,
        label_name=SPARSE_LABEL_NAME if settings.with_label else None,
        label_mapping=label_mapping(first, settings, settings.with_label),
        match_id_name=(settings.match_id_name or "match_id") if settings.with_match_id else None,
        missing=missing,
        outlier=outlier,
    )
