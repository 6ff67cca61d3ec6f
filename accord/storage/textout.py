"""Writing a table back as delimited text, a batch of rows at a time.

An uploaded table comes back as the file it came from: same header, delimiter, line ending, final
newline and BOM, and without the ids ``extend_sid`` generated. A table a component wrote comes back
with its column names as the header, ``,`` between values and ``\\n`` after every line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from accord.errors import DataFormatError
from accord.storage.model import TableInfo
from accord.storage.textfile import UTF8_BOM


@dataclass(frozen=True, slots=True)
class TextForm:
    header: list[str] | None
    delimiter: str
    line_ending: str
    final_newline: bool
    bom: bool
    skip_columns: int


def text_form(info: TableInfo, column_names: list[str], delimiter: str | None) -> TextForm:
    """How to write ``info``'s table; ``delimiter`` overrides the table's own."""
    layout = info.layout
    if layout is None:
        return TextForm(list(column_names), delimiter or ",", "\n", True, False, 0)
    header: list[str] | None = None
    if layout.head:
        header = info.header if info.extend_sid else [info.sid, *info.header]
    return TextForm(
        header,
        delimiter or info.id_delimiter,
        layout.line_ending,
        layout.final_newline,
        layout.bom,
        1 if info.extend_sid else 0,
    )


def text_chunks(batches: Iterable[pa.RecordBatch], form: TextForm) -> Iterator[bytes]:
    """The table as encoded text, one chunk per batch (after the BOM and header)."""
    ending = form.line_ending.encode()
    started = False
    if form.bom:
        yield UTF8_BOM
    if form.header is not None:
        yield form.delimiter.join(form.header).encode()
        started = True
    for batch in batches:
        if batch.num_rows == 0:
            continue
        columns = [
            _as_text(batch.column(index), batch.schema.field(index).name)
            for index in range(form.skip_columns, batch.num_columns)
        ]
        if not columns:
            continue
        lines = columns[0] if len(columns) == 1 else _joined(columns, form.delimiter)
        offsets = pa.array([0, len(lines)], pa.int32())
        rows = pa.ListArray.from_arrays(offsets, lines)
        block = pc.call_function("binary_join", [rows, form.line_ending])[0].as_buffer()
        if started:
            yield ending
        yield block.to_pybytes()
        started = True
    if started and form.final_newline:
        yield ending


def _joined(columns: list[pa.Array[Any]], delimiter: str) -> pa.Array[Any]:
    joined: pa.Array[Any] = pc.call_function("binary_join_element_wise", [*columns, delimiter])
    return joined


def _as_text(column: pa.Array[Any], name: str) -> pa.Array[Any]:
    if column.type != pa.string():
        try:
            column = pc.cast(column, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataFormatError(
                f"column {name!r} holds {column.type} values, which cannot be written as text",
                hint="download tables of plain values (strings, numbers, booleans)",
            ) from None
    return column.fill_null("")
