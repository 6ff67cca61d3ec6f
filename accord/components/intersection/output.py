"""The intersection's output: this party's rows whose ids were found, in order, cut alike on every party.

Row order is ascending order of the id string (Arrow's byte order of UTF-8, which is Python's order of
``str``), and the rows are cut into partitions by rank alone: with ``n`` rows and ``p`` partitions,
partition ``k`` holds ranks ``k*n//p`` up to ``(k+1)*n//p``. Every party that outputs holds the same
ids, knows the same ``n`` and is given the same ``p``, so row i of partition k is the same id on every
party without any id crossing for it.

Only this party's ids move while ranking (a narrow table: id, input partition); the rows themselves
move once, from their input partition to their output partition:

1. found ids are bucketed by sampled id ranges and each bucket sorted: ranks are bucket offsets plus
   positions;
2. each id, with its output partition and rank, goes back to its input partition, where the row is
   picked out of the input;
3. the rows go to their output partitions and are put in rank order.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.components.intersection.keyed import OWN, SRC, Env
from accord.components.intersection.routing import route
from accord.components.sdk import DataTable
from accord.components.sdk.dataset import FEATURES
from accord.computing import Block, BlockTable
from accord.computing.block import SID, require_batch
from accord.errors import DataFormatError

# An output partition holds at least this many rows (fewer partitions for small intersections).
MIN_PARTITION_ROWS = 10_000
# Ids each found partition offers for the bucket boundaries.
SAMPLES_PER_PARTITION = 64
BUCKET, DEST, RANK = "_bucket", "_dest", "_rank"


def output_partitions(found: int, limit: int) -> int:
    """How many partitions ``found`` rows are cut into, at most ``limit`` (the guest's choice)."""
    return max(1, min(limit, math.ceil(found / MIN_PARTITION_ROWS)))


def _narrow(index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    return pa.RecordBatch.from_arrays([batch.column(OWN), batch.column(SRC)], names=[SID, SRC])


@dataclass(frozen=True)
class Survey:
    """How many ids were found, and a sample of them evenly spread over their order."""

    rows: int = 0
    samples: tuple[str, ...] = ()


def _survey(block: Block) -> Survey:
    column = require_batch(block, "intersection").column(OWN)
    sids = [str(sid) for sid in column.take(pc.sort_indices(column)).to_pylist()]
    count = SAMPLES_PER_PARTITION
    picked = sids if len(sids) <= count else [sids[(k * len(sids)) // count] for k in range(count)]
    return Survey(len(sids), tuple(picked))


def _add_surveys(left: Survey, right: Survey) -> Survey:
    return Survey(left.rows + right.rows, left.samples + right.samples)


def survey(found_ids: BlockTable) -> Survey:
    """One pass over the found ids: their count and the sample the ranking buckets them by."""
    return found_ids.aggregate(Survey(), _survey, _add_surveys)


def _concat_counts(left: list[int], right: list[int]) -> list[int]:
    return left + right


def _bucketed(bounds: tuple[str, ...], index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    bucket = np.zeros(batch.num_rows, dtype=np.int32)
    sids = batch.column(SID)
    for bound in bounds:
        bucket += np.asarray(pc.greater_equal(sids, pa.scalar(bound, pa.string())), dtype=np.int32)
    return batch.append_column(BUCKET, pa.array(bucket, type=pa.int32()))


def _sorted(column: str, index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    order = pc.sort_indices(batch.column(column))
    return batch.take(order)


def _rows(block: Block) -> list[int]:
    return [0 if isinstance(block, bytes) else block.num_rows]


def _ranked(offsets: tuple[int, ...], found: int, partitions: int, index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    ranks = offsets[index] + np.arange(batch.num_rows, dtype=np.int64)
    starts = (np.arange(partitions, dtype=np.int64) * found) // partitions
    dest = np.searchsorted(starts, ranks, side="right") - 1
    return pa.RecordBatch.from_arrays(
        [batch.column(SID), batch.column(SRC), pa.array(dest.astype(np.int32)), pa.array(ranks)],
        names=[SID, SRC, DEST, RANK],
    )


def _picked(rows: Block, ranked: Block) -> Block:
    batch = require_batch(rows, "intersection")
    wanted = require_batch(ranked, "intersection")
    at = pc.index_in(batch.column(SID), value_set=wanted.column(SID))
    chosen = pc.is_valid(at)
    picked = batch.filter(chosen)
    if picked.num_rows != wanted.num_rows:
        raise DataFormatError("the intersection lost rows while picking them out of the input")
    positions = at.filter(chosen)
    picked = picked.append_column(DEST, wanted.column(DEST).take(positions))
    return picked.append_column(RANK, wanted.column(RANK).take(positions))


def _in_order(index: int, block: Block) -> Block:
    batch = require_batch(block, "intersection")
    return batch.take(pc.sort_indices(batch.column(RANK))).drop_columns([DEST, RANK])


def _keys_only(index: int, block: Block) -> Block:
    # Arrow has no zero-width fixed-size list, so the empty feature rows are empty variable-size lists;
    # Dataset.features() reads them as an (n, 0) matrix all the same.
    batch = require_batch(block, "intersection")
    features = pa.array([[] for _ in range(batch.num_rows)], type=pa.list_(pa.float64()))
    return pa.RecordBatch.from_arrays([batch.column(SID), features], names=[SID, FEATURES])


def ranked_ids(env: Env, found_ids: BlockTable, found: Survey, partitions: int) -> BlockTable:
    """Each found id with its output partition (``_dest``) and rank, in the found table's partitions."""
    narrow = found_ids.map_partitions_with_index(_narrow)
    buckets = narrow.partitions
    samples = sorted(found.samples)
    # Bucket k holds the ids from its lower bound up to the next one (the first has none below).
    picks = (samples[(k * len(samples)) // buckets] for k in range(1, buckets)) if samples else ()
    bounds = tuple(dict.fromkeys(picks))
    marked = narrow.map_partitions_with_index(functools.partial(_bucketed, bounds))
    ordered = env.keep(
        route(marked, BUCKET, buckets).map_partitions_with_index(functools.partial(_sorted, SID))
    )
    no_rows: list[int] = []
    counts = ordered.aggregate(no_rows, _rows, _concat_counts)
    offsets = tuple(int(value) for value in np.concatenate([[0], np.cumsum(counts)[:-1]]))
    return ordered.map_partitions_with_index(functools.partial(_ranked, offsets, found.rows, partitions))


def output_rows(
    env: Env, data: DataTable, found_ids: BlockTable, found: Survey, partitions: int, *, keys_only: bool
) -> DataTable:
    """``data``'s rows whose ids ``found_ids`` holds (see ``found``), in id order, in ``partitions``."""
    ranked = ranked_ids(env, found_ids, found, partitions)
    back = route(ranked, SRC, data.table.partitions)
    picked = data.table.zip_partitions(back, _picked)
    rows = route(picked, DEST, partitions).map_partitions_with_index(_in_order)
    if keys_only:
        return replace(data, table=rows.map_partitions_with_index(_keys_only), header=(), label_name=None)
    return data.with_table(rows)
