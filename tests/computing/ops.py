"""Functions the table tests hand to operations: module level, so both engines can pickle them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.computing.block import Block, concat_batches, require_batch


def rows(count: int, *, first: int = 0, seed: int = 0) -> pa.Table:
    """sid s<i>, x = i, y a float of i, for i in first .. first+count-1, in a shuffled order."""
    order = np.random.default_rng(seed).permutation(np.arange(first, first + count))
    return pa.table(
        {
            "sid": pa.array([f"s{i}" for i in order]),
            "x": pa.array(order, pa.int64()),
            "y": pa.array(order * 0.25 + np.sin(order), pa.float64()),
        }
    )


def doubled_y(batch: pa.RecordBatch) -> pa.RecordBatch:
    index = batch.schema.get_field_index("y")
    return batch.set_column(index, "y", pc.multiply(batch.column("y"), 2.0))


def x_multiple_of_3(batch: pa.RecordBatch) -> pa.Array[Any]:
    return pa.array(batch.column("x").to_numpy() % 3 == 0)


def tag_partition(index: int, block: Block) -> Block:
    batch = require_batch(block, "test")
    return batch.append_column("part", pa.array(np.full(batch.num_rows, index, np.int64)))


def sum_x(block: Block) -> int:
    return int(pc.sum(require_batch(block, "test").column("x")).as_py() or 0)


def sum_y(block: Block) -> float:
    return float(pc.sum(require_batch(block, "test").column("y")).as_py() or 0.0)


def dot_xz(block: Block) -> float:
    batch = require_batch(block, "test")
    return float(np.dot(batch.column("x").to_numpy(), batch.column("z").to_numpy().astype(np.float64)))


def add(left: Any, right: Any) -> Any:
    return left + right


def same_rows(left: Block, right: Block) -> Block:
    """Left's rows whose sid right has, with right's z: a join written as a zip."""
    mine, theirs = require_batch(left, "test"), require_batch(right, "test")
    joined = pa.Table.from_batches([mine]).join(
        pa.Table.from_batches([theirs.select(["sid", "z"])]), "sid", join_type="inner"
    )
    return concat_batches(joined.to_batches(), joined.schema)


def blob_with_index(index: int, block: Block) -> Block:
    assert isinstance(block, bytes)
    return block + bytes([index])


def xor_blobs(left: Block, right: Block) -> Block:
    assert isinstance(left, bytes) and isinstance(right, bytes)
    return (np.frombuffer(left, np.uint8) ^ np.frombuffer(right, np.uint8)).tobytes()


def blob_bytes(block: Block) -> int:
    assert isinstance(block, bytes)
    return len(block)
