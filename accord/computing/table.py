"""Block tables: what components compute with, whichever engine runs them.

A table is a list of partitions, partition i being one block (see :mod:`accord.computing.block`).
Work is per block, never per row: FATE 1.x's one (key, value) pair per row is what made its
tables slow (a 1M-row keyed join took 67 s on Spark where zipping co-partitioned blocks took 1.8 s).

**Functions given to operations must be picklable**: module-level functions, or
``functools.partial`` of them, never lambdas or closures. They run in other processes (the local
engine's pool, Spark's Python workers), which import them by module and name.

Operations are lazy where the engine allows (nothing runs until a count, an aggregate, a write, a
send or a collection); :meth:`BlockTable.persist` keeps a result an expensive lineage produced.
Memory stays bounded: only :meth:`take` and :meth:`to_arrow` bring rows to the caller, and
:meth:`blocks` and :meth:`send` hand over one partition at a time.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np
import pyarrow as pa

from accord.computing import block as blocks_
from accord.computing.block import SID, Block
from accord.errors import ArgumentError, DataError

T = TypeVar("T")
BatchFn = Callable[[pa.RecordBatch], pa.RecordBatch]
PartitionFn = Callable[[int, Block], Block]
ZipFn = Callable[[Block, Block], Block]
# Receives partition i's index and its tagged bytes (block.encode); what carries them to the peer.
Sender = Callable[[int, bytes], None]
DEFAULT_MAX_ROWS = 1_000_000


class BlockTable(ABC):
    """A table of ``partitions`` blocks; engines implement the abstract core, the rest is shared."""

    @property
    @abstractmethod
    def partitions(self) -> int: ...

    @property
    @abstractmethod
    def sid_partitioned(self) -> bool:
        """Whether every row sits in partition :func:`~accord.computing.block.sid_partition` of its sid."""

    @abstractmethod
    def map_partitions_with_index(self, fn: PartitionFn, *, preserves_sids: bool = False) -> BlockTable:
        """Partition i becomes ``fn(i, block)``; ``preserves_sids`` if fn moves no row to another sid."""

    @abstractmethod
    def zip_partitions(self, other: BlockTable, fn: ZipFn, *, preserves_sids: bool = False) -> BlockTable:
        """Partition i becomes ``fn(self's block i, other's block i)``; both tables the same engine's."""

    @abstractmethod
    def repartition_by_sid(self, partitions: int | None = None) -> BlockTable:
        """The rows in ``partitions`` (default: as many as now) partitions by the shared sid partitioner."""

    @abstractmethod
    def aggregate(self, zero: T, partial: Callable[[Block], T], combine: Callable[[T, T], T]) -> T:
        """``combine`` folded from ``zero`` over ``partial(block)`` of each partition, in partition order."""

    @abstractmethod
    def blocks(self) -> Iterator[tuple[int, Block]]:
        """Each partition in order, one at a time (the caller holds one block, never the table)."""

    @abstractmethod
    def persist(self) -> BlockTable:
        """Compute the table once and keep it (memory and disk) for the operations that follow."""

    @abstractmethod
    def unpersist(self) -> None:
        """Release what :meth:`persist` kept."""

    @abstractmethod
    def write(self, location: str) -> None:
        """Write to ``location`` (a path or URI) in the layout every engine's ``read`` takes."""

    # ---- shared operations -----------------------------------------------------------------

    def count(self) -> int:
        """Rows (a blob counts as one)."""
        return self.aggregate(0, blocks_.rows, _add)

    def map_batches(self, fn: BatchFn) -> BlockTable:
        """Each batch through ``fn``, which keeps each row's sid (FATE's mapValues); it may drop rows."""
        return self.map_partitions_with_index(functools.partial(_on_batch, fn), preserves_sids=True)

    def filter(self, predicate: Callable[[pa.RecordBatch], pa.Array[Any]]) -> BlockTable:
        """The rows for which ``predicate(batch)`` (a boolean array) is true."""
        return self.map_batches(functools.partial(_filter_batch, predicate))

    def sample(self, fraction: float, seed: int) -> BlockTable:
        """About ``fraction`` of the rows, the same ones on every engine for one seed and partitioning."""
        if not 0.0 <= fraction <= 1.0:
            raise ArgumentError(f"sample: fraction {fraction!r} is not between 0 and 1", hint="give 0..1")
        return self.map_partitions_with_index(
            functools.partial(_sample_batch, fraction, seed), preserves_sids=True
        )

    def join(self, other: BlockTable, *, right_suffix: str = "_right") -> BlockTable:
        """Rows whose sid both tables have, with the columns of both (other's clashing ones suffixed)."""
        left, right = self._co_partitioned(other)
        return left.zip_partitions(right, functools.partial(_join_blocks, right_suffix), preserves_sids=True)

    def union(self, other: BlockTable) -> BlockTable:
        """Every row of this table, and other's rows whose sid this table lacks (same columns)."""
        left, right = self._co_partitioned(other)
        return left.zip_partitions(right, _union_blocks, preserves_sids=True)

    def subtract(self, other: BlockTable) -> BlockTable:
        """The rows whose sid other lacks (FATE's subtractByKey)."""
        left, right = self._co_partitioned(other)
        return left.zip_partitions(right, _subtract_blocks, preserves_sids=True)

    def take(self, count: int) -> pa.Table:
        """The first ``count`` rows, in partition order."""
        taken: list[pa.RecordBatch] = []
        have = 0
        schema: pa.Schema | None = None
        for _, block in self.blocks():
            batch = blocks_.require_batch(block, "take")
            schema = batch.schema
            if have >= count:
                break
            taken.append(batch.slice(0, count - have))
            have += taken[-1].num_rows
        return pa.Table.from_batches(taken, schema) if schema is not None else _no_rows()

    def to_arrow(self, max_rows: int = DEFAULT_MAX_ROWS) -> pa.Table:
        """Every row, for small results; a table over ``max_rows`` is refused rather than filling memory."""
        collected: list[pa.RecordBatch] = []
        have = 0
        schema: pa.Schema | None = None
        for _, block in self.blocks():
            batch = blocks_.require_batch(block, "to_arrow")
            schema = batch.schema
            have += batch.num_rows
            if have > max_rows:
                raise DataError(
                    f"to_arrow: the table has more than {max_rows} rows",
                    hint="aggregate or write it instead, or raise max_rows if it truly fits in memory",
                )
            collected.append(batch)
        return pa.Table.from_batches(collected, schema) if schema is not None else _no_rows()

    def send(self, sender: Sender) -> int:
        """Hand each partition, encoded, to ``sender`` one at a time; returns how many were sent."""
        sent = 0
        for index, block in self.blocks():
            sender(index, blocks_.encode(block))
            sent += 1
        return sent

    def _co_partitioned(self, other: BlockTable) -> tuple[BlockTable, BlockTable]:
        """Both tables partitioned by sid into the same number of partitions, shuffling only if needed."""
        partitions = max(self.partitions, other.partitions)
        left = self if self.sid_partitioned and self.partitions == partitions else None
        right = other if other.sid_partitioned and other.partitions == partitions else None
        return (
            left or self.repartition_by_sid(partitions),
            right or other.repartition_by_sid(partitions),
        )


class Engine(Protocol):
    """Where tables come from; one engine per task, closed when the task ends."""

    partitions: int

    def from_batches(
        self,
        batches: Iterable[pa.RecordBatch],
        partitions: int | None = None,
        schema: pa.Schema | None = None,
    ) -> BlockTable:
        """The rows of ``batches``, partitioned by sid, streamed (never all held at once)."""
        ...

    def from_blobs(self, blobs: Sequence[bytes]) -> BlockTable:
        """Partition i is ``blobs[i]``."""
        ...

    def parallelize(self, blocks: Sequence[Block]) -> BlockTable:
        """Partition i is ``blocks[i]`` as given (batches not repartitioned)."""
        ...

    def read(self, location: str) -> BlockTable:
        """A table :meth:`BlockTable.write` wrote, by any engine."""
        ...

    def read_parquet(self, file: str) -> BlockTable:
        """A Parquet file (a site table's data file): partition i is row group i."""
        ...

    def receive(self, parts: Iterable[tuple[int, bytes]], partitions: int) -> BlockTable:
        """The table a peer's :meth:`BlockTable.send` sent, taken one partition at a time."""
        ...

    def close(self) -> None: ...


def check_partitions(partitions: int, where: str) -> int:
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise ArgumentError(
            f"{where}: {partitions!r} is not a number of partitions",
            hint="give a whole number of at least 1 (computing_partitions in the job conf)",
        )
    return partitions


# ---- block functions (module level, so they pickle by reference) --------------------------


def _add(left: int, right: int) -> int:
    return left + right


def _no_rows() -> pa.Table:
    return pa.table({SID: pa.array([], pa.string())})


def _on_batch(fn: BatchFn, index: int, block: Block) -> Block:
    return fn(blocks_.require_batch(block, "map_batches"))


Predicate = Callable[[pa.RecordBatch], "pa.Array[Any]"]


def _filter_batch(predicate: Predicate, batch: pa.RecordBatch) -> pa.RecordBatch:
    return batch.filter(predicate(batch))


def _sample_batch(fraction: float, seed: int, index: int, block: Block) -> Block:
    batch = blocks_.require_batch(block, "sample")
    draws = np.random.default_rng([seed, index]).random(batch.num_rows)
    return batch.filter(pa.array(draws < fraction))


def _join_blocks(right_suffix: str, left: Block, right: Block) -> Block:
    left_batch = blocks_.require_batch(left, "join")
    right_batch = blocks_.require_batch(right, "join")
    joined = pa.Table.from_batches([left_batch]).join(
        pa.Table.from_batches([right_batch]),
        keys=SID,
        join_type="inner",
        right_suffix=right_suffix,
        use_threads=False,
    )
    return blocks_.concat_batches(joined.to_batches(), joined.schema)


def _union_blocks(left: Block, right: Block) -> Block:
    left_batch = blocks_.require_batch(left, "union")
    right_batch = blocks_.require_batch(right, "union")
    if not right_batch.schema.equals(left_batch.schema):
        raise DataError(
            "union: the tables have different columns "
            f"({', '.join(left_batch.schema.names)} vs {', '.join(right_batch.schema.names)})",
            hint="select the same columns, of the same types, in both tables",
        )
    extra = blocks_.keep_sids(right_batch, left_batch.column(SID), inside=False)
    return blocks_.concat_batches([left_batch, extra], left_batch.schema)


def _subtract_blocks(left: Block, right: Block) -> Block:
    left_batch = blocks_.require_batch(left, "subtract")
    right_batch = blocks_.require_batch(right, "subtract")
    return blocks_.keep_sids(left_batch, right_batch.column(SID), inside=False)
