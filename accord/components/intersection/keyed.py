"""The tables an intersection computes with: this party's ids, keyed by what the parties compare.

A *key table* has one row per id of this party: ``sid`` (what the table is partitioned by),
``key`` (what crosses to the peer: the raw key, or the hex of a signature's final digest), ``own``
(this party's id) and ``src`` (the partition of the input the row is in). Tables the parties compare
are partitioned by ``key`` into the same number of partitions on both sides (the shared sid
partitioner), so partition i of one side is compared with partition i of the other alone, and a
peer's keys come and go a partition at a time.

What is sent: for RSA each partition's digests as one sorted, fixed-width byte string (the receiver
learns nothing from their order); for raw, each partition's keys as a sorted ``sid`` column.
Functions handed to the engine are module level (they run in other processes).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from accord.components.intersection.hashing import pack, raw_keys, unpack
from accord.computing import Block, BlockTable, Engine
from accord.computing.block import SID, concat_batches, require_batch
from accord.errors import TransferError

KEY, OWN, SRC = "key", "own", "src"
_IDS_TYPES: dict[str, pa.DataType] = {SID: pa.string(), SRC: pa.int32()}
_KEYED_TYPES: dict[str, pa.DataType] = {SID: pa.string(), KEY: pa.string(), OWN: pa.string(), SRC: pa.int32()}
IDS_SCHEMA = pa.schema(_IDS_TYPES)
KEYED_SCHEMA = pa.schema(_KEYED_TYPES)


@dataclass
class Env:
    """The engine, the partition count of compared tables, and what was persisted (released at the end)."""

    engine: Engine
    partitions: int
    kept: list[BlockTable] = field(default_factory=list)

    def keep(self, table: BlockTable) -> BlockTable:
        self.kept.append(table.persist())
        return table

    def release(self) -> None:
        for table in self.kept:
            table.unpersist()
        self.kept.clear()


# ---- this party's ids -------------------------------------------------------------------------


def _id_rows(index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    sids = batch.column(SID).cast(pa.string())
    return pa.RecordBatch.from_arrays(
        [sids, pa.array([index] * batch.num_rows, type=pa.int32())], schema=IDS_SCHEMA
    )


def id_table(rows: BlockTable) -> BlockTable:
    """``sid`` and ``src`` of each row of the input, partition for partition."""
    return rows.map_partitions_with_index(_id_rows, preserves_sids=True)


@dataclass(frozen=True)
class IdCheck:
    """How many ids a table has, how many occur more than once, and (at most) five of those."""

    rows: int = 0
    repeated: int = 0
    shown: tuple[str, ...] = ()


def _repeats(block: Block) -> IdCheck:
    sids = require_batch(block, "intersection").column(SID)
    counts = pc.value_counts(sids)
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), pa.scalar(1, pa.int64())))
    return IdCheck(len(sids), len(repeated), tuple(sorted(str(sid) for sid in repeated.to_pylist())[:5]))


def _add_checks(left: IdCheck, right: IdCheck) -> IdCheck:
    shown = tuple(sorted(left.shown + right.shown)[:5])
    return IdCheck(left.rows + right.rows, left.repeated + right.repeated, shown)


def check_ids(ids: BlockTable) -> IdCheck:
    """Counts the ids and finds repeated ones (a shuffle by id, so repeats meet in one partition)."""
    return ids.repartition_by_sid().aggregate(IdCheck(), _repeats, _add_checks)


def _even_or_odd(odd: bool, numbers: Any, index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    parity = [bool(number & 1) == odd for number in numbers(batch.column(SID).to_pylist())]
    return batch.filter(pa.array(parity, type=pa.bool_()))


def by_parity(ids: BlockTable, numbers: Any, odd: bool) -> BlockTable:
    """The ids whose number (``numbers(ids)``, e.g. ``H(id)``) is odd, or even."""
    return ids.map_partitions_with_index(functools.partial(_even_or_odd, odd, numbers), preserves_sids=True)


# ---- key tables --------------------------------------------------------------------------------


def keyed_batch(keys: Sequence[str], own: pa.Array[Any], src: pa.Array[Any]) -> pa.RecordBatch:
    key_column = pa.array(list(keys), type=pa.string())
    return pa.RecordBatch.from_arrays([key_column, key_column, own, src], schema=KEYED_SCHEMA)


def _raw_rows(use_hash: bool, method: str, salt: str, as_base64: bool, index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    own = batch.column(SID)
    keys = raw_keys(
        [str(sid) for sid in own.to_pylist()],
        use_hash=use_hash,
        method=method,
        salt=salt,
        as_base64=as_base64,
    )
    return keyed_batch(keys, own, batch.column(SRC))


def raw_key_table(
    env: Env, ids: BlockTable, *, use_hash: bool, method: str, salt: str, base64: bool
) -> BlockTable:
    fn = functools.partial(_raw_rows, use_hash, method, salt, base64)
    return env.keep(ids.map_partitions_with_index(fn).repartition_by_sid(env.partitions))


def _rekeyed(column: str, index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    return batch.set_column(batch.schema.get_field_index(SID), SID, batch.column(column))


def by_own(env: Env, table: BlockTable) -> BlockTable:
    """The key table partitioned by this party's id (to compare across peers, whose keys differ)."""
    return table.map_partitions_with_index(functools.partial(_rekeyed, OWN)).repartition_by_sid(
        env.partitions
    )


def by_key(env: Env, table: BlockTable) -> BlockTable:
    return table.map_partitions_with_index(functools.partial(_rekeyed, KEY)).repartition_by_sid(
        env.partitions
    )


# ---- comparing ----------------------------------------------------------------------------------


def _peer_keys(block: Block, width: int | None, what: str) -> pa.Array[Any]:
    if width is not None:
        digests = unpack(block, width, what)
        return pa.array([item.hex() for item in digests], type=pa.string())
    if (
        isinstance(block, bytes)
        or SID not in block.schema.names
        or not pa.types.is_string(block.schema.field(SID).type)
    ):
        raise TransferError(f"the peer sent {what} that is not a column of string keys")
    return block.column(SID)


def _matched(width: int | None, what: str, mine: Block, theirs: Block) -> Block:
    batch = require_batch(mine, "intersection")
    keys = _peer_keys(theirs, width, what)
    return batch.filter(pc.is_in(batch.column(SID), value_set=keys))


def _claimed(width: int | None, what: str, mine: Block, theirs: Block) -> Block:
    batch = require_batch(mine, "intersection")
    keys = _peer_keys(theirs, width, what)
    unknown = len(keys) - int(
        pc.sum(pc.cast(pc.is_in(keys, value_set=batch.column(SID)), pa.int64())).as_py() or 0
    )
    if unknown:
        raise TransferError(f"the peer sent {what} holding {unknown} key(s) this party never produced")
    return batch.filter(pc.is_in(batch.column(SID), value_set=keys))


def matched(mine: BlockTable, theirs: BlockTable, width: int | None, what: str) -> BlockTable:
    """The rows of ``mine`` whose key the peer's partition-for-partition keys hold."""
    return mine.zip_partitions(theirs, functools.partial(_matched, width, what))


def claimed(mine: BlockTable, theirs: BlockTable, width: int | None, what: str) -> BlockTable:
    """As :func:`matched`, and a key the peer sent that this party never made is refused."""
    return mine.zip_partitions(theirs, functools.partial(_claimed, width, what))


def _keep_in(mine: Block, others: Block) -> Block:
    batch = require_batch(mine, "intersection")
    return batch.filter(
        pc.is_in(batch.column(SID), value_set=require_batch(others, "intersection").column(SID))
    )


def keep_in(mine: BlockTable, others: BlockTable) -> BlockTable:
    """Rows of ``mine`` whose sid ``others`` holds; both partitioned by the same sids alike."""
    return mine.zip_partitions(others, _keep_in)


def _both(first: Block, second: Block) -> Block:
    left, right = require_batch(first, "intersection"), require_batch(second, "intersection")
    return concat_batches([left, right], left.schema)


def concat(first: BlockTable, second: BlockTable) -> BlockTable:
    """Partition i holds the rows of both tables' partition i."""
    return first.zip_partitions(second, _both)


def common_ids(env: Env, found: Sequence[BlockTable]) -> BlockTable:
    """The rows whose id every table of ``found`` holds (one table: itself, as it is)."""
    if len(found) == 1:
        return found[0]
    result = by_own(env, found[0])
    for other in found[1:]:
        result = keep_in(result, by_own(env, other))
    return env.keep(result)


def among(env: Env, side: BlockTable, common: BlockTable) -> BlockTable:
    """The rows of ``side`` whose id ``common`` holds, partitioned by ``side``'s keys."""
    return by_key(env, keep_in(by_own(env, side), by_own(env, common)))


# ---- what crosses -----------------------------------------------------------------------------


def _digest_blob(index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    return pack(bytes.fromhex(str(key)) for key in batch.column(KEY).to_pylist())


def _key_batch(index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    keys = pc.array_sort_indices(batch.column(KEY))
    return pa.RecordBatch.from_arrays([batch.column(KEY).take(keys)], names=[SID])


def outgoing(table: BlockTable, digests: bool) -> BlockTable:
    """The keys of ``table`` as the peer receives them: digest bytes (RSA) or a key column (raw)."""
    return table.map_partitions_with_index(_digest_blob if digests else _key_batch)
