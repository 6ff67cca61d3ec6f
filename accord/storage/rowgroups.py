"""Reading and writing Parquet a row group at a time.

``ParquetFile.iter_batches`` reads ahead several row groups at once, which costs several times the
memory of one; a table is read here one row group at a time instead. Writing gathers batches into
row groups of a few MiB: big enough that a wide table's footer stays small, small enough that reading
one back is cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 50_000
ROW_GROUP_BYTES = 4 << 20


def row_batches(parquet: pq.ParquetFile, batch_rows: int) -> Iterator[pa.RecordBatch]:
    for index in range(parquet.num_row_groups):
        yield from parquet.read_row_group(index).to_batches(max_chunksize=batch_rows)


class RowGroupWriter:
    """A Parquet file written from batches of any size, in row groups of bounded size."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self.rows = 0
        self._writer = pq.ParquetWriter(path, schema)
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self._pending_bytes += batch.nbytes
        self.rows += batch.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS or self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def close(self) -> None:
        try:
            self._flush()
        finally:
            self._writer.close()

    def abandon(self) -> None:
        """Release the file without writing what is pending: it is being thrown away."""
        self._writer.close()

    def __enter__(self) -> RowGroupWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()

    def _flush(self) -> None:
        if self._pending:
            table = pa.Table.from_batches(self._pending, self.schema)
            self._writer.write_table(table, row_group_size=table.num_rows)
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0
