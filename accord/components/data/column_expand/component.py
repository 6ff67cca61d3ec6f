"""The ColumnExpand component: append columns of fixed values to a party's raw rows.

It sits between the Reader and DataTransform, as in FATE: each row of the raw table gets the new
value columns after its own (the text of fill_value, as FATE appends ``",".join(values)`` to each
line) and the header gets append_header, so DataTransform reads them as ordinary columns. The model
keeps the new columns and their values; predict appends the same ones to other rows. Nothing crosses
the federation.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pyarrow as pa

from accord.components.data.column_expand.params import ColumnExpandParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.computing import Block
from accord.errors import DataFormatError, DataMismatchError

Context = ComponentContext[ColumnExpandParam]
MODULE = "ColumnExpand"


def append_block(texts: list[str], index: int, block: Block) -> Block:
    """The raw batch with one text column per new value, after the value columns it has."""
    if isinstance(block, bytes):
        raise DataFormatError("a raw table's partition is not a batch of rows")
    width = block.num_columns
    columns = list(block.columns)
    names = list(block.schema.names)
    for k, text in enumerate(texts):
        columns.append(pa.array([text] * block.num_rows, type=pa.string()))
        # Value columns are read by position; the names only need to be new ones.
        names.append(f"c{width + k}")
    return pa.RecordBatch.from_arrays(columns, names=names)


def expanded(data: DataTable, model: Mapping[str, Any]) -> DataTable:
    names, texts = list(model["append_header"]), list(model["fill_value"])
    if not names:
        return data
    if not data.header:
        raise DataFormatError(
            "ColumnExpand appends named columns to a table with a header line, and this one has none",
            hint="upload the table with head 1",
        )
    clash = sorted(set(names) & set(data.header))
    if clash:
        raise DataMismatchError(
            f"ColumnExpand's append_header {clash[:10]} are already columns of the table",
            hint="give the new columns names the table does not use",
        )
    table = data.table.map_partitions_with_index(functools.partial(append_block, texts), preserves_sids=True)
    return replace(data, table=table, header=(*data.header, *names))


class ColumnExpand(ComponentBase[ColumnExpandParam]):
    params = ColumnExpandParam

    def fit(self, ctx: Context) -> None:
        data = _input(ctx)
        params = ctx.params
        names = (params.append_header or []) if params.need_run else []
        model: dict[str, Any] = {
            "module": MODULE,
            "append_header": names,
            "method": params.method,
            "fill_value": params.fill_texts if names else [],
            "need_run": params.need_run,
        }
        out = expanded(data, model)
        model["header"] = list(out.header)
        ctx.save_table(out)
        ctx.save_model(model)
        ctx.log.info("%s: appended %s", ctx.component, names)

    def predict(self, ctx: Context) -> None:
        data = _input(ctx)
        model = ctx.trained_model("expands")
        ctx.save_applied_model(model)
        ctx.save_table(expanded(data, model))


def _input(ctx: Context) -> DataTable:
    data = ctx.first_input("data")
    if data.kind != "raw":
        raise DataFormatError(
            f"{ctx.component} appends columns to the Reader's raw rows, but its input holds {data.kind} rows",
            hint="put ColumnExpand between the Reader and DataTransform, as FATE does",
        )
    return data
