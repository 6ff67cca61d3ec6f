"""Union: several tables of one party combined into one, as FATE 1.11's Union combines them.

Inputs are taken in DSL order. Empty inputs are skipped (and counted). Every other input must match the
first one's kind (raw rows or parsed instances), id name, label name and header. Without keep_duplicate
an id already taken by an earlier input keeps that earlier row; with it, every id is renamed
``<id>_<key>`` where key is FATE's name for the input, ``<component>.<slot>.<n>`` (``n`` counting the
inputs from that component), so all rows are kept.

The rows stay on the engine: the union zips sid-partitioned blocks, and each output partition is
sorted by id, so every engine (and every party) writes the same rows in the same order.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from accord.components.data.union.params import UnionParam
from accord.components.sdk import ComponentBase, ComponentContext, DataTable
from accord.components.sdk.dataset import SID
from accord.computing import Block, BlockTable
from accord.errors import DataFormatError, DataMismatchError

Context = ComponentContext[UnionParam]
METRIC = "union"


def suffix_ids(key: str, index: int, block: Block) -> Block:
    """The block with each id renamed ``<id>_<key>``."""
    if isinstance(block, bytes):
        raise DataFormatError("a table of rows holds a blob partition")
    renamed = pa.array([f"{sid}_{key}" for sid in block.column(SID).to_pylist()], type=pa.string())
    return block.set_column(block.schema.get_field_index(SID), SID, renamed)


def sort_by_sid(index: int, block: Block) -> Block:
    if isinstance(block, bytes):
        raise DataFormatError("a table of rows holds a blob partition")
    return block.take(pc.sort_indices(block.column(SID)))


def input_keys(ctx: Context) -> list[tuple[str, DataTable]]:
    """Each data input with FATE's key for it, in DSL order."""
    seen: Counter[str] = Counter()
    keyed = []
    refs = [ref for ref in ctx.inputs("data") if ref.slot == "data"]
    tables = ctx.input_tables("data")
    for ref, table in zip(refs, tables, strict=True):
        keyed.append((f"{ref.component}.{ref.slot}.{seen[ref.component]}", table))
        seen[ref.component] += 1
    return keyed


def check_match(first: DataTable, other: DataTable, key: str, component: str) -> None:
    """FATE's checks of a non-empty input against the first: kind, id name, label name, header."""
    hint = "union tables read and transformed the same way (same columns, same label, same id name)"
    if first.kind != other.kind:
        raise DataMismatchError(
            f"{component}: input {key} holds {other.kind} rows and the first input {first.kind} rows",
            hint=hint,
        )
    if first.sid_name != other.sid_name:
        raise DataMismatchError(
            f"{component}: id names {other.sid_name!r} ({key}) and {first.sid_name!r} do not match", hint=hint
        )
    if first.kind == "instances" and first.label_name != other.label_name:
        if first.label_name is None or other.label_name is None:
            raise DataMismatchError(
                f"{component}: input {key} combines a labelled table with an unlabelled one", hint=hint
            )
        raise DataMismatchError(
            f"{component}: label names {other.label_name!r} ({key}) and {first.label_name!r} do not match",
            hint=hint,
        )
    if first.header != other.header:
        raise DataMismatchError(f"{component}: the header of input {key} differs from the first's", hint=hint)


class Union(ComponentBase[UnionParam]):
    params = UnionParam

    def fit(self, ctx: Context) -> None:
        inputs = input_keys(ctx)
        if len(inputs) <= 1:
            raise DataFormatError(
                f"{ctx.component}: Union combines more than one table and was given {len(inputs)}",
                hint='list two or more: "input": {"data": {"data": ["reader_0.data", "reader_1.data"]}}',
            )
        if not ctx.params.need_run:
            ctx.save_table(inputs[0][1])
            return
        partitions = ctx.engine.partitions
        first: DataTable | None = None
        merged: BlockTable | None = None
        counts: dict[str, int] = {}
        empty = 0
        for key, data in inputs:
            rows = data.table.count()
            counts[key] = rows
            # The first input (even an empty one) gives the output its meta, as FATE's combined schema.
            first = first or data
            if rows == 0:
                ctx.log.warning("%s: input %s is empty", ctx.component, key)
                empty += 1
                continue
            check_match(first, data, key, ctx.component)
            table = data.table
            if ctx.params.keep_duplicate:
                table = table.map_partitions_with_index(functools.partial(suffix_ids, key))
            table = table.repartition_by_sid(partitions)
            merged = table if merged is None else merged.union(table)
        assert first is not None
        if merged is None:
            ctx.log.warning("%s: every input is empty", ctx.component)
            merged = first.table
        output = first.with_table(merged.map_partitions_with_index(sort_by_sid, preserves_sids=True))
        total = ctx.save_table(output)
        counts["Total"] = total
        points: list[list[Any]] = [[key, rows] for key, rows in counts.items()]
        ctx.tracker.log_metric("train", METRIC, points, metric_type="UNION", meta={"name": METRIC})
        ctx.tracker.set_summary(counts)
        ctx.log.info("%s: %d rows from %d inputs (%d empty)", ctx.component, total, len(inputs), empty)
