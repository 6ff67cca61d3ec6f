"""The local engine (computing engines STANDALONE and EGGROLL): block tables on a process pool.

A table is a tuple of *sources*, one per partition, each a small picklable recipe: a block stored
in a file (a spill of this engine, a partition of a written table, a row group of a Parquet file)
or a function of other sources. Operations only build recipes; a count, an aggregate, a write or
a shuffle sends one recipe per partition to the pool, whose workers compute the block from the
files and return a small result or write the block to a file. The caller's process never holds a
table, only file names.

The pool has as many workers as the task's cores. Workers are started as the crypto pool's are
(fresh interpreters that skip the parent's main module) and compute crypto in-process: the table's
partitions are the parallelism, so a Paillier kernel runs one partition per core rather than
spreading each partition over every core again.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from accord.computing import block as blocks_
from accord.computing import layout
from accord.computing.block import Block
from accord.computing.spooled import SpooledEngine
from accord.computing.table import BlockTable, PartitionFn, ZipFn, check_partitions
from accord.crypto.pool import WorkerContext, exit_with_parent, set_parallelism
from accord.errors import ArgumentError

T = TypeVar("T")
R = TypeVar("R")


# ---- sources: how to get partition i ------------------------------------------------------


@dataclass(frozen=True)
class Spilled:
    """A block this engine wrote to a file (block.encode's bytes)."""

    path: str


@dataclass(frozen=True)
class Stored:
    """Partition ``index`` of a table in the on-disk layout."""

    location: str
    index: int
    kind: layout.Kind


@dataclass(frozen=True)
class RowGroup:
    file: str
    index: int


@dataclass(frozen=True)
class Derived:
    """``fn(index, *blocks of inputs)``."""

    fn: Callable[..., Block]
    index: int
    inputs: tuple[Source, ...]


@dataclass(frozen=True)
class Gathered:
    """The pieces a shuffle sent to one partition, concatenated."""

    paths: tuple[str, ...]


Source = Spilled | Stored | RowGroup | Derived | Gathered


def compute(source: Source) -> Block:
    if isinstance(source, Spilled):
        return blocks_.decode(Path(source.path).read_bytes())
    if isinstance(source, Stored):
        return layout.read_block(source.location, source.index, source.kind)
    if isinstance(source, RowGroup):
        return layout.read_row_group(source.file, source.index)
    if isinstance(source, Derived):
        return source.fn(source.index, *(compute(item) for item in source.inputs))
    pieces = [blocks_.require_batch(blocks_.decode(Path(p).read_bytes()), "shuffle") for p in source.paths]
    return blocks_.concat_batches(pieces, pieces[0].schema)


# ---- tasks the workers run (module level: they are pickled by name) ----------------------


def _spill_task(source: Source, path: str) -> str:
    Path(path).write_bytes(blocks_.encode(compute(source)))
    return path


def _apply_task(source: Source, fn: Callable[[Block], R]) -> R:
    return fn(compute(source))


def _encode_task(source: Source) -> bytes:
    return blocks_.encode(compute(source))


def _split_task(source: Source, partitions: int, prefix: str) -> list[str]:
    batch = blocks_.require_batch(compute(source), "repartition_by_sid")
    paths = []
    for target, piece in enumerate(blocks_.split_by_sid(batch, partitions)):
        path = f"{prefix}-{target}.arrow"
        Path(path).write_bytes(blocks_.encode(piece))
        paths.append(path)
    return paths


def _write_task(source: Source, location: str, index: int) -> layout.Kind:
    return layout.write_block(location, index, compute(source))


def _worker_setup() -> None:
    # The engine's processes are the parallelism: Paillier work inside a partition stays in-process.
    set_parallelism(1)
    exit_with_parent()


def _zip(fn: ZipFn, index: int, left: Block, right: Block) -> Block:
    return fn(left, right)


# ---- the engine ---------------------------------------------------------------------------


class LocalEngine(SpooledEngine):
    """Block tables on this machine: ``cores`` worker processes (1: all in this process)."""

    def __init__(self, *, cores: int, partitions: int, work_dir: Path | None = None) -> None:
        if isinstance(cores, bool) or not isinstance(cores, int) or cores < 1:
            raise ArgumentError(
                f"local engine: {cores!r} is not a number of cores", hint="give task_cores >= 1"
            )
        self.cores = cores
        self.partitions = check_partitions(partitions, "local engine")
        parent = str(work_dir) if work_dir is not None else None
        if work_dir is not None:
            work_dir.mkdir(parents=True, exist_ok=True)
        self._dir = Path(tempfile.mkdtemp(prefix="accord-computing-", dir=parent))
        self._pool: ProcessPoolExecutor | None = None

    # -- running recipes --

    def run(self, task: Callable[..., R], argument_lists: Sequence[tuple[Any, ...]]) -> list[R]:
        """``[task(*arguments) ...]`` on the pool, in order."""
        pool = self._executor(len(argument_lists))
        if pool is None:
            return [task(*arguments) for arguments in argument_lists]
        futures = [pool.submit(task, *arguments) for arguments in argument_lists]
        return [future.result() for future in futures]

    def stream(self, task: Callable[..., R], argument_lists: Sequence[tuple[Any, ...]]) -> Iterator[R]:
        """Results in order, at most one per worker computed ahead (bounded memory)."""
        pool = self._executor(len(argument_lists))
        if pool is None:
            for arguments in argument_lists:
                yield task(*arguments)
            return
        pending: list[Future[R]] = []
        queue = iter(argument_lists)
        for arguments in queue:
            pending.append(pool.submit(task, *arguments))
            if len(pending) >= self.cores:
                break
        while pending:
            result = pending.pop(0).result()
            following = next(queue, None)
            if following is not None:
                pending.append(pool.submit(task, *following))
            yield result

    def _executor(self, tasks: int) -> ProcessPoolExecutor | None:
        # One partition gains nothing from other processes, and a small table (one row group, the
        # common case) would otherwise pay a pool's start-up on every task.
        if self.cores == 1 or (tasks <= 1 and self._pool is None):
            return None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.cores, mp_context=WorkerContext(), initializer=_worker_setup
            )
        return self._pool

    def scratch(self, name: str) -> str:
        return str(self._dir / f"{name}-{uuid.uuid4().hex}")

    # -- tables --

    def table(self, sources: Sequence[Source], sid_partitioned: bool) -> LocalTable:
        return LocalTable(self, tuple(sources), sid_partitioned)

    def parallelize(self, blocks: Sequence[Block]) -> BlockTable:
        check_partitions(len(blocks), "parallelize (one block per partition)")
        sources = []
        for block in blocks:
            path = self.scratch("block")
            Path(path).write_bytes(blocks_.encode(block))
            sources.append(Spilled(path))
        return self.table(sources, sid_partitioned=False)

    def read(self, location: str) -> BlockTable:
        meta = layout.read_meta(location)
        sources = [Stored(location, index, meta.kind) for index in range(meta.partitions)]
        return self.table(sources, meta.sid_partitioned)

    def read_parquet(self, file: str) -> BlockTable:
        groups = check_partitions(layout.row_group_count(file), f"read_parquet({file}): row groups")
        return self.table([RowGroup(file, index) for index in range(groups)], sid_partitioned=False)

    def receive(self, parts: Iterable[tuple[int, bytes]], partitions: int) -> BlockTable:
        location = layout.receive_into(self.scratch("received"), parts, partitions)
        return self.read(location)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self._dir, ignore_errors=True)


class LocalTable(BlockTable):
    def __init__(self, engine: LocalEngine, sources: tuple[Source, ...], sid_partitioned: bool) -> None:
        self._engine = engine
        self._sources = sources
        self._sid_partitioned = sid_partitioned
        self._lineage: tuple[Source, ...] | None = None

    @property
    def partitions(self) -> int:
        return len(self._sources)

    @property
    def sid_partitioned(self) -> bool:
        return self._sid_partitioned

    def map_partitions_with_index(self, fn: PartitionFn, *, preserves_sids: bool = False) -> BlockTable:
        sources = [Derived(fn, index, (source,)) for index, source in enumerate(self._sources)]
        return self._engine.table(sources, self._sid_partitioned and preserves_sids)

    def zip_partitions(self, other: BlockTable, fn: ZipFn, *, preserves_sids: bool = False) -> BlockTable:
        other_local = self._same_engine(other)
        if other_local.partitions != self.partitions:
            raise ArgumentError(
                f"zip_partitions: {self.partitions} partitions against {other_local.partitions}",
                hint="repartition_by_sid both tables to the same number of partitions first",
            )
        zipper = functools.partial(_zip, fn)
        sources = [
            Derived(zipper, index, (mine, theirs))
            for index, (mine, theirs) in enumerate(zip(self._sources, other_local._sources, strict=True))
        ]
        keeps = self._sid_partitioned and other_local._sid_partitioned and preserves_sids
        return self._engine.table(sources, keeps)

    def repartition_by_sid(self, partitions: int | None = None) -> BlockTable:
        count = check_partitions(partitions or self.partitions, "repartition_by_sid")
        prefix = self._engine.scratch("shuffle")
        pieces = self._engine.run(
            _split_task, [(source, count, f"{prefix}-{index}") for index, source in enumerate(self._sources)]
        )
        sources = [Gathered(tuple(paths[target] for paths in pieces)) for target in range(count)]
        return self._engine.table(sources, sid_partitioned=True)

    def aggregate(self, zero: T, partial: Callable[[Block], T], combine: Callable[[T, T], T]) -> T:
        result = zero
        for value in self._engine.stream(_apply_task, [(source, partial) for source in self._sources]):
            result = combine(result, value)
        return result

    def blocks(self) -> Iterator[tuple[int, Block]]:
        encoded = self._engine.stream(_encode_task, [(source,) for source in self._sources])
        for index, data in enumerate(encoded):
            yield index, blocks_.decode(data)

    def persist(self) -> BlockTable:
        if self._lineage is None:
            paths = self._engine.run(
                _spill_task, [(source, self._engine.scratch("persist")) for source in self._sources]
            )
            self._lineage, self._sources = self._sources, tuple(Spilled(path) for path in paths)
        return self

    def unpersist(self) -> None:
        if self._lineage is not None:
            for source in self._sources:
                if isinstance(source, Spilled):
                    Path(source.path).unlink(missing_ok=True)
            self._sources, self._lineage = self._lineage, None

    def write(self, location: str) -> None:
        kinds = self._engine.run(
            _write_task, [(source, location, index) for index, source in enumerate(self._sources)]
        )
        kind = layout.table_kind(location, kinds)
        layout.write_meta(location, layout.TableMeta(self.partitions, kind, self._sid_partitioned))

    def _same_engine(self, other: BlockTable) -> LocalTable:
        if not isinstance(other, LocalTable) or other._engine is not self._engine:
            raise ArgumentError(
                "a local table can only be combined with a table of the same local engine",
                hint="read or receive the other table through this task's engine",
            )
        return other
