"""Turning an upload file into a Parquet file, and merging one into an existing table by id.

The raw model: one string column of ids, then one string column per value field, every value exactly
as the file had it (a DataTransform component parses them later: dense, sparse ``idx:val`` or
``k:v;k:v`` tag lines alike). The header line fixes how many fields every line has; without one, the
first line does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from accord.errors import DataMismatchError, UploadFileError
from accord.storage.conf import UploadConf
from accord.storage.model import ENGINE, EXTEND_SID_NAME, LAYOUT_KEY, TableInfo, TextLayout, UploadProgress
from accord.storage.rowgroups import RowGroupWriter, row_batches
from accord.storage.textfile import DelimitedFile

BATCH_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class StagedUpload:
    rows: int
    schema: dict[str, Any]


def stage_upload(
    conf: UploadConf,
    source: Path,
    target: Path,
    *,
    progress: Callable[[UploadProgress], None] | None = None,
    name: str | None = None,
) -> StagedUpload:
    """Write ``source`` to the Parquet file ``target``; its row count and the table's schema JSON.

    Messages call the file ``name`` (default: its path).
    """
    name = name if name is not None else str(source)
    reader = DelimitedFile(source, delimiter=conf.id_delimiter, head=bool(conf.head), name=name)
    # FATE's generated ids: one random prefix per upload, then the data line's 0-based index.
    id_prefix = "" if conf.auto_increasing_sid else uuid.uuid4().hex
    writer: RowGroupWriter | None = None
    try:
        for fields in reader.batches():
            if conf.extend_sid:
                count = len(fields[0])
                fields = [_generated_ids(id_prefix, reader.rows - count, count), *fields]
            if writer is None:
                names = _column_names(reader, conf.extend_sid)
                writer = RowGroupWriter(target, pa.schema([pa.field(name, pa.string()) for name in names]))
            writer.write(pa.RecordBatch.from_arrays(fields, schema=writer.schema))
            if progress is not None:
                progress(UploadProgress(reader.bytes_read, reader.total_bytes, reader.rows))
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise
    if writer is not None:
        writer.close()
    if not conf.extend_sid:
        _refuse_duplicate_ids(target, name, reader.first_data_line)
    return StagedUpload(reader.rows, _schema_json(reader, conf))


def _column_names(reader: DelimitedFile, extend_sid: bool) -> list[str]:
    width = reader.width or 0
    count = width + 1 if extend_sid else width
    if reader.header is not None:
        names = [EXTEND_SID_NAME, *reader.header] if extend_sid else list(reader.header)
        if "" not in names and len(set(names)) == len(names):
            return names
    # Parquet needs distinct column names; the file's own names stay in the schema JSON.
    return [f"c{index}" for index in range(count)]


def _generated_ids(prefix: str, start: int, count: int) -> pa.Array[Any]:
    indices: pa.Array[Any] = pa.array(np.arange(start, start + count, dtype=np.int64).astype(str))
    if not prefix:
        return indices
    joined: pa.Array[Any] = pc.call_function("binary_join_element_wise", [pa.scalar(prefix), indices, ""])
    return joined


def _schema_json(reader: DelimitedFile, conf: UploadConf) -> dict[str, Any]:
    width = reader.width or 0
    fields = reader.header or []
    delimiter = conf.id_delimiter
    if conf.extend_sid:
        sid, header, value_columns = EXTEND_SID_NAME, delimiter.join(fields), width
    else:
        sid, header, value_columns = (fields[0] if fields else ""), delimiter.join(fields[1:]), width - 1
    layout = TextLayout(
        head=bool(conf.head),
        value_columns=value_columns,
        line_ending=reader.line_ending,
        final_newline=reader.final_newline,
        bom=reader.bom,
    )
    schema: dict[str, Any] = {"header": header, "sid": sid, LAYOUT_KEY: layout.to_json()}
    if conf.with_meta and conf.meta is not None:
        schema["meta"] = conf.meta
    return schema


def find_duplicate(ids: pa.Array[Any] | pa.ChunkedArray[Any]) -> tuple[int, int, int] | None:
    """For the earliest repeated id: (row it first appeared on, row it repeats on, repeated rows).

    Sorting rather than hashing: a hash set of every id costs several times the ids' own size.
    """
    total = len(ids)
    if total < 2:
        return None
    order = pc.sort_indices(ids)
    ordered = ids.take(order)
    repeats = pc.equal(ordered.slice(1), ordered.slice(0, total - 1))
    if not pc.any(repeats).as_py():
        return None
    repeated = repeats.to_numpy(zero_copy_only=False)
    rows = order.to_numpy()
    later, earlier = rows[1:][repeated], rows[:-1][repeated]
    # The sort is stable, so within an id the rows ascend and the earliest repeat follows the first row.
    pick = int(np.argmin(later))
    return int(earlier[pick]), int(later[pick]), int(repeated.sum())


def _refuse_duplicate_ids(target: Path, name: str, first_data_line: int) -> None:
    ids = pq.ParquetFile(target).read(columns=[_first_column(target)]).column(0)
    duplicate = find_duplicate(ids)
    if duplicate is None:
        return
    first, repeat, count = duplicate
    line, earlier = first_data_line + repeat, first_data_line + first
    raise UploadFileError(
        f"upload file {name!r}: line {line} repeats id {ids[repeat].as_py()!r} of line {earlier} "
        f"({count} repeated id{'s' if count > 1 else ''} in all)",
        hint="give every row its own id, or upload with extend_sid: true to generate ids",
        file=name,
        line=line,
    )


def _first_column(path: Path) -> str:
    return str(pq.read_schema(path).names[0])


def check_mergeable(existing: TableInfo, staged: StagedUpload, conf: UploadConf, name: str) -> None:
    """Refuse to merge rows shaped differently from the table's into it."""
    table = f"table {existing.namespace}.{existing.name}"
    hint = "upload with drop: 1 to replace the table, or into another table_name"
    old_layout, new_layout = existing.layout, TextLayout.from_json(staged.schema[LAYOUT_KEY])
    if existing.engine != ENGINE or old_layout is None or new_layout is None:
        raise DataMismatchError(
            f"{table} was not uploaded from a file, so rows cannot be merged into it", hint=hint
        )
    differences = []
    if existing.id_delimiter != conf.id_delimiter:
        differences.append(f"id_delimiter {existing.id_delimiter!r}, not {conf.id_delimiter!r}")
    if existing.extend_sid != conf.extend_sid:
        differences.append(f"extend_sid {existing.extend_sid}, not {conf.extend_sid}")
    if old_layout.head != new_layout.head:
        differences.append(f"head {int(old_layout.head)}, not {conf.head}")
    if old_layout.value_columns != new_layout.value_columns:
        differences.append(f"{old_layout.value_columns} value columns, not {new_layout.value_columns}")
    old_names = (existing.sid, existing.schema.get("header"))
    if not differences and old_names != (staged.schema["sid"], staged.schema["header"]):
        differences.append(f"id {old_names[0]!r} and header {old_names[1]!r}, unlike {name!r}")
    if differences:
        raise DataMismatchError(f"{table} has {'; '.join(differences)}", hint=hint)


def merge_by_id(old_file: Path, new_file: Path, target: Path) -> int:
    """Write the old rows whose id the new file lacks, then every new row; the rows written.

    Only the new file's ids are held in memory; both files are streamed.
    """
    new = pq.ParquetFile(new_file)
    schema = new.schema_arrow
    new_ids = new.read(columns=[schema.names[0]]).column(0).combine_chunks()
    with open(old_file, "rb") as old_handle, RowGroupWriter(target, schema) as writer:
        old = pq.ParquetFile(old_handle)
        for batch in row_batches(old, BATCH_ROWS):
            kept = batch.filter(pc.invert(pc.is_in(batch.column(0), value_set=new_ids)))
            writer.write(pa.RecordBatch.from_arrays(kept.columns, schema=schema))
        for batch in row_batches(new, BATCH_ROWS):
            writer.write(batch)
    return writer.rows
