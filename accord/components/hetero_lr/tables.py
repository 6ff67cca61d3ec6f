"""HeteroLR's use of block tables: tables to and from peers, alignment, batches per partition.

A table crosses to a peer one partition at a time, each as its own value (``<tag>.<partition>``),
so neither side ever holds more than the partitions in flight. Rows are aligned by position: after
Intersection every party lists the same ids in the same order with the same partition boundaries,
which each party checks once (row count and sid digest per partition) before any batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow.parquet as pq

from accord.components.hetero_lr import encoded, kernels
from accord.components.sdk import ComponentContext, DataTable, layout
from accord.computing import Block, BlockTable
from accord.computing.block import concat_batches
from accord.computing.table import PartitionFn, ZipFn
from accord.errors import ArgumentError, DataFormatError, DataMismatchError

T = TypeVar("T")
Info = list[tuple[int, str]]


# An input of up to this many rows is read as one partition (a few MB): its passes then run in the
# task's process, where a partition pool's start-up and round trips would cost more than the
# arithmetic, and the crypto pool spreads its Paillier batches over the cores as before. Every party
# decides alike from the row counts, which the parties check to be equal.
SMALL_TABLE_ROWS = 50_000


def input_rows(ctx: ComponentContext[Any], *slots: str) -> DataTable | None:
    """The data of the first of ``slots`` the DSL wires, a small table as a single partition."""
    for slot in slots:
        refs = [ref for ref in ctx.inputs("data") if ref.slot == slot]
        data = ctx.input_table(slot) if refs else None
        if data is None:
            continue
        path = layout.data_path(ctx.task.work_dir.parent, refs[0].component, refs[0].output)
        if data.table.partitions > 1 and pq.read_metadata(path).num_rows <= SMALL_TABLE_ROWS:
            whole = pq.read_table(path)
            batch = concat_batches(whole.to_batches(), whole.schema)
            return data.with_table(ctx.engine.parallelize([batch]))
        return data
    return None


def send_table(
    ctx: ComponentContext[Any], table: BlockTable, *, role: str, tag: str, index: int | str
) -> int:
    """Send ``table`` to the ``role`` party (or all of them), partition by partition."""
    where: Any = index

    def sender(partition: int, data: bytes) -> None:
        ctx.transfer.remote(data, role=role, tag=f"{tag}.{partition}", index=where)

    return table.send(sender)


def receive_table(
    ctx: ComponentContext[Any], *, role: str, tag: str, index: int, partitions: int
) -> BlockTable:
    """The table the ``index``-th ``role`` party sent under ``tag``."""

    def parts() -> Iterator[tuple[int, bytes]]:
        for partition in range(partitions):
            data = ctx.transfer.get(role=role, tag=f"{tag}.{partition}", index=index)
            yield partition, bytes(data)

    return ctx.engine.receive(parts(), partitions)


def table_info(data: DataTable) -> Info:
    """Per partition, in order: its row count and a digest of its sids."""
    nothing: Info = []
    return data.table.aggregate(nothing, kernels.partition_info, kernels.concat)


def check_same_rows(mine: Info, theirs: Info, what: str, component: str) -> None:
    if [list(item) for item in mine] != [list(item) for item in theirs]:
        counts = sum(count for count, _ in mine), sum(count for count, _ in theirs)
        raise DataMismatchError(
            f"{component}: the guest's and this party's {what} rows differ ({counts[1]} rows in "
            f"{len(theirs)} partitions against {counts[0]} in {len(mine)}, or other ids, or another order)",
            hint="feed every party the output of the same Intersection component",
        )


def offsets(info: Info) -> np.ndarray:
    """The global position of each partition's first row, and the total at the end."""
    return np.concatenate([[0], np.cumsum([count for count, _ in info])]).astype(np.int64)


def selections(rows: np.ndarray | None, bounds: np.ndarray) -> kernels.Selections:
    """A batch's global row positions (sorted; None: every row) as positions within each partition."""
    partitions = len(bounds) - 1
    if rows is None:
        return (None,) * partitions
    cuts = np.searchsorted(rows, bounds)
    return tuple(rows[cuts[i] : cuts[i + 1]] - bounds[i] for i in range(partitions))


def prepared(data: DataTable, with_label: bool) -> BlockTable:
    """The rows as numbers, one blob per partition, computed once and kept."""
    fn = functools.partial(kernels.prepare, data.meta(), with_label)
    return data.table.map_partitions_with_index(fn).persist()


def collect(table: BlockTable) -> list[bytes]:
    """The partitions' (small) blobs, in partition order."""
    nothing: list[bytes] = []
    return table.aggregate(nothing, kernels.listed, kernels.concat)


def x_stats(rows: BlockTable, chosen: kernels.Selections) -> encoded.Stats:
    """The batch's column magnitudes of X, over every partition (what the encrypted dot encodes at)."""
    nothing: encoded.Stats | None = None
    found = rows.aggregate(nothing, functools.partial(kernels.x_stats, chosen), encoded.merge_stats)
    if found is None:
        raise DataFormatError("the training table has no partitions", hint="check the component's input")
    return found


def zip_all(tables: Sequence[BlockTable], fn: ZipFn) -> BlockTable:
    combined = tables[0]
    for table in tables[1:]:
        combined = combined.zip_partitions(table, fn)
    return combined


class Concatenated(BlockTable):
    """The partitions of several tables one after another: only what saving an output needs."""

    def __init__(self, tables: Sequence[BlockTable]) -> None:
        self._tables = list(tables)

    @property
    def partitions(self) -> int:
        return sum(table.partitions for table in self._tables)

    @property
    def sid_partitioned(self) -> bool:
        return False

    def blocks(self) -> Iterator[tuple[int, Block]]:
        index = 0
        for table in self._tables:
            for _, block in table.blocks():
                yield index, block
                index += 1

    def _refuse(self, operation: str) -> Any:
        raise ArgumentError(
            f"{operation} is not offered by a concatenation of tables (it is only saved)",
            hint="compute on the parts before concatenating them",
        )

    def map_partitions_with_index(self, fn: PartitionFn, *, preserves_sids: bool = False) -> BlockTable:
        return self._refuse("map_partitions_with_index")  # type: ignore[no-any-return]

    def zip_partitions(self, other: BlockTable, fn: ZipFn, *, preserves_sids: bool = False) -> BlockTable:
        return self._refuse("zip_partitions")  # type: ignore[no-any-return]

    def repartition_by_sid(self, partitions: int | None = None) -> BlockTable:
        return self._refuse("repartition_by_sid")  # type: ignore[no-any-return]

    def aggregate(self, zero: T, partial: Callable[[Block], T], combine: Callable[[T, T], T]) -> T:
        result = zero
        for table in self._tables:
            result = combine(result, table.aggregate(zero, partial, combine))
        return result

    def persist(self) -> BlockTable:
        return self

    def unpersist(self) -> None:
        """Nothing kept."""

    def write(self, location: str) -> None:
        self._refuse("write")


def send_host_wx(ctx: ComponentContext[Any], data: DataTable, weights: np.ndarray) -> None:
    """A host's part of predicting: its rows' X_h·w_h, table by table, to the guest (after the row
    count and partitioning, which the guest checks against its own)."""
    ctx.transfer.remote(table_info(data), role="guest", tag=f"predict.info.{ctx.party_index}", index=0)
    wx = data.table.map_partitions_with_index(functools.partial(kernels.rows_wx, data.meta(), weights))
    send_table(ctx, wx, role="guest", tag=f"predict.wx.{ctx.party_index}", index=0)


def receive_host_wx(ctx: ComponentContext[Any], data: DataTable) -> list[BlockTable]:
    """The guest's side of :func:`send_host_wx`: each host's X_h·w_h, co-partitioned with ``data``."""
    info = table_info(data)
    received = []
    for index in range(len(ctx.party_ids("host"))):
        theirs = ctx.transfer.get(role="host", tag=f"predict.info.{index}", index=index)
        check_same_rows(info, theirs, "predict", ctx.component)
        received.append(
            receive_table(
                ctx, role="host", tag=f"predict.wx.{index}", index=index, partitions=data.table.partitions
            )
        )
    return received
