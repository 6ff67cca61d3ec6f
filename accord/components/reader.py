"""Reader: the first component of a pipeline, handing a party's uploaded table to the next ones.

Its output is a ``raw`` dataset: ``sid`` (the table's ids), then the value columns as text, in file
order, named ``c1``, ``c2``...; ``header`` holds the file's names for them (empty when it had no header
line) and ``extra`` the delimiter, so DataTransform can parse them as FATE does. It runs on the task's
engine: each row group of the uploaded file is one partition, renamed where it lies.
"""

from __future__ import annotations

import functools

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.components.sdk.dataset import SID
from accord.computing import Block
from accord.errors import DataFormatError


class TableRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    namespace: str = Field(min_length=1)


class ReaderParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: TableRef


class Reader(ComponentBase[ReaderParam]):
    params = ReaderParam

    def fit(self, ctx: ComponentContext[ReaderParam]) -> None:
        ref = ctx.params.table
        source = ctx.services.tables.open(ref.namespace, ref.name)
        width = len(pq.read_schema(source.file).names)
        names = (SID, *(f"c{index}" for index in range(1, width)))
        # One partition per row group of the uploaded file, in file order: the rows keep their order.
        rows = ctx.engine.read_parquet(source.file).map_partitions_with_index(
            functools.partial(positional, names)
        )
        count = ctx.save_table(
            DataTable(
                rows,
                "raw",
                header=source.header,
                sid_name=source.sid or "id",
                extra={
                    "delimiter": source.delimiter,
                    "table": {"namespace": ref.namespace, "name": ref.name},
                    # FATE 1.9+ upload meta (with_meta uploads), which DataTransform reads.
                    "meta": source.meta,
                },
            )
        )
        ctx.tracker.set_summary({"count": count, "table": ref.model_dump()})

    def predict(self, ctx: ComponentContext[ReaderParam]) -> None:
        self.fit(ctx)


def positional(names: tuple[str, ...], index: int, block: Block) -> Block:
    """The batch's columns under positional names (the file's own names live in the header)."""
    if isinstance(block, bytes):
        raise DataFormatError("an uploaded table's partition is not a batch of rows")
    return pa.RecordBatch.from_arrays(block.columns, names=list(names))
