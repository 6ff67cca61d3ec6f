"""Moving rows to a partition chosen per row, with the engines' one shuffle (repartition by sid).

Block tables shuffle only by the shared sid partitioner (FNV-1a of the sid, modulo the partition
count). To send a row to partition ``t`` the row's sid is swapped, for the shuffle only, for a short
*routing key* whose FNV hash lands in ``t`` (the first of ``"0"``, ``"1"``, ... that does), and
swapped back afterwards. That is every engine's own shuffle, a partition at a time, with no engine
change; the order of rows within a partition after it is not defined (callers sort).
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from accord.computing import Block, BlockTable, sid_partition
from accord.computing.block import SID, require_batch

# Where a row's own sid waits while its routing key stands in for it.
HELD_SID = "_intersection_sid"


@functools.lru_cache(maxsize=64)
def routing_keys(partitions: int) -> tuple[str, ...]:
    """For each partition t, a short string the shared partitioner puts in partition t."""
    keys: dict[int, str] = {}
    candidate = 0
    while len(keys) < partitions:
        text = str(candidate)
        keys.setdefault(sid_partition(text, partitions), text)
        candidate += 1
    return tuple(keys[target] for target in range(partitions))


def _keyed(column: str, keys: tuple[str, ...], index: int, block: Block) -> Block:
    batch = require_batch(block, "route")
    targets = np.asarray(batch.column(column).to_numpy(zero_copy_only=False), dtype=np.int64)
    routed = pa.array(keys, type=pa.string()).take(targets)
    position = batch.schema.get_field_index(SID)
    swapped = batch.set_column(position, SID, routed)
    return swapped.append_column(HELD_SID, batch.column(SID))


def _unkeyed(index: int, block: Block) -> Block:
    batch = require_batch(block, "route")
    held = batch.column(HELD_SID)
    batch = batch.drop_columns([HELD_SID])
    return batch.set_column(batch.schema.get_field_index(SID), SID, held)


def route(table: BlockTable, column: str, partitions: int) -> BlockTable:
    """The rows of ``table`` in ``partitions`` partitions, each row in the one its ``column`` names."""
    keyed = table.map_partitions_with_index(functools.partial(_keyed, column, routing_keys(partitions)))
    return keyed.repartition_by_sid(partitions).map_partitions_with_index(_unkeyed)
