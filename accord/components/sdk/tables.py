"""A component's input and output as a block table on the task's engine.

Outputs stay what every component reads (one Parquet file per output with the dataset meta in its
schema, :class:`~accord.components.sdk.dataset.Dataset`), so ported and not-yet-ported components
chain freely. A block-table input reads that file on the engine, one partition per row group; saving
a table streams its partitions, one at a time and in order, into the file, one row group each. Row
order is therefore kept end to end, which is what keeps a ported component's results equal to the
dataset version's.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from accord.components.sdk.dataset import Dataset, read_meta, with_meta
from accord.computing import BlockTable, Engine
from accord.errors import DataFormatError


@dataclass(frozen=True)
class DataTable:
    """Rows on an engine and what their columns mean (the meta a :class:`Dataset` carries)."""

    table: BlockTable
    kind: str
    header: tuple[str, ...] = ()
    sid_name: str = "id"
    label_name: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, table: BlockTable, meta: Mapping[str, Any]) -> DataTable:
        return cls(
            table,
            meta["kind"],
            header=tuple(meta["header"]),
            sid_name=meta["sid_name"],
            label_name=meta["label_name"],
            extra=dict(meta.get("extra", {})),
        )

    def meta(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "header": list(self.header),
            "sid_name": self.sid_name,
            "label_name": self.label_name,
            "extra": dict(self.extra),
        }

    def with_table(self, table: BlockTable, **changes: Any) -> DataTable:
        return replace(self, table=table, **changes)

    def to_dataset(self, max_rows: int = 50_000_000) -> Dataset:
        """The rows in this process, for the parts of a component not yet written on blocks."""
        return Dataset.of(self.table.to_arrow(max_rows), self.meta())


def load_table(engine: Engine, path: Path) -> DataTable:
    """The output file at ``path`` as a table of ``engine`` (partition i = row group i)."""
    return DataTable.of(engine.read_parquet(str(path)), read_meta(pq.read_schema(path), path))


def save_table(data: DataTable, path: Path) -> int:
    """Write ``data`` to ``path`` atomically, partition by partition; returns the rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    rows = 0
    try:
        for _, block in data.table.blocks():
            if isinstance(block, bytes):
                raise DataFormatError("a component output is a table of rows, and this one holds blobs")
            if writer is None or schema is None:
                schema = block.schema.with_metadata(with_meta(block.schema, data.meta()))
                writer = pq.ParquetWriter(partial, schema)
            writer.write_table(pa.Table.from_batches([block]).replace_schema_metadata(schema.metadata))
            rows += block.num_rows
        if writer is None:  # pragma: no cover - every engine has at least one partition
            raise DataFormatError("a component output has no partitions")
        writer.close()
        writer = None
        os.replace(partial, path)
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    return rows
