"""Reader: the first component of a pipeline, handing a party's uploaded table to the next ones.

Its output is a ``raw`` dataset: ``sid`` (the table's ids), then the value columns as text, in file
order, named ``c1``, ``c2``...; ``header`` holds the file's names for them (empty when it had no header
line) and ``extra`` the delimiter, so DataTransform can parse them as FATE does.
"""

from __future__ import annotations

from typing import ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from accord.components.sdk import ComponentBase, ComponentContext, Dataset
from accord.components.sdk.dataset import SID


class TableRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    namespace: str = Field(min_length=1)


class ReaderParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: TableRef


class Reader(ComponentBase[ReaderParam]):
    params = ReaderParam
    roles: ClassVar[frozenset[str]] = frozenset({"guest", "host", "local"})

    def fit(self, ctx: ComponentContext[ReaderParam]) -> None:
        table = ctx.services.tables.read(ctx.params.table.namespace, ctx.params.table.name)
        columns = table.table.columns
        names = [SID, *(f"c{index}" for index in range(1, len(columns)))]
        rows = pa.Table.from_arrays(columns, names=names)
        ctx.save_data(
            Dataset(
                rows,
                "raw",
                header=tuple(table.header),
                sid_name=table.sid or "id",
                extra={
                    "delimiter": table.delimiter,
                    "table": {"namespace": ctx.params.table.namespace, "name": ctx.params.table.name},
                    # FATE 1.9+ upload meta (with_meta uploads), which DataTransform reads.
                    "meta": table.info.schema.get("meta"),
                },
            )
        )
        ctx.tracker.set_summary({"count": len(rows), "table": ctx.params.table.model_dump()})

    def predict(self, ctx: ComponentContext[ReaderParam]) -> None:
        self.fit(ctx)
