"""Blocks, their bytes, and the sid partitioner both parties share.

A partition of a table is one block: an Arrow record batch with a string ``sid`` column (rows keyed
by sample id), or an opaque byte blob (a packed ciphertext vector, which no engine looks into).
Blocks cross process, executor and site boundaries as bytes: a batch as an Arrow IPC stream, a blob
as itself, each behind an eight-byte tag so a receiver knows which it holds.

The partitioner is FNV-1a (64 bit) of the sid's UTF-8 bytes, modulo the partition count. It is
written out here rather than taken from Python's ``hash`` (salted per process) or Spark's
(JVM-specific) so that two parties, on different engines and machines, put every sid in the same
partition, which is what lets a join zip co-partitioned blocks instead of shuffling rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from accord.errors import DataError, TransferError

SID = "sid"
Block = pa.RecordBatch | bytes

# Eight bytes, not one: the IPC stream after the tag stays 8-byte aligned, which Arrow's kernels need
# to read its buffers in place.
_HEADER = 8
_BATCH_TAG = b"A".ljust(_HEADER, b"\0")
_BLOB_TAG = b"B".ljust(_HEADER, b"\0")
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def encode(block: Block) -> bytes:
    """The block as tagged bytes: an Arrow IPC stream for a batch, the blob itself otherwise."""
    if isinstance(block, bytes):
        return _BLOB_TAG + block
    sink = pa.BufferOutputStream()
    sink.write(_BATCH_TAG)
    with pa.ipc.new_stream(sink, block.schema) as writer:
        writer.write_batch(block)
    return bytes(sink.getvalue().to_pybytes())


def decode(data: bytes) -> Block:
    """The block :func:`encode` made (a batch shares memory with ``data``, not a copy)."""
    tag = data[:_HEADER]
    if tag == _BLOB_TAG:
        return data[_HEADER:]
    if tag != _BATCH_TAG:
        raise TransferError(
            f"a table partition starts with {tag!r}, which is neither a batch nor a blob",
            hint="the sender and receiver run different versions of accord.computing",
        )
    reader = pa.ipc.open_stream(pa.py_buffer(data)[_HEADER:])
    batches = list(reader)
    return concat_batches(batches, reader.schema)


def concat_batches(batches: list[pa.RecordBatch], schema: pa.Schema) -> pa.RecordBatch:
    """One batch of the rows of ``batches`` (an empty batch of ``schema`` when there are none)."""
    if len(batches) == 1:
        return batches[0]
    combined = pa.Table.from_batches(batches, schema).combine_chunks().to_batches()
    return combined[0] if combined else empty_batch(schema)


def empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], type=field.type) for field in schema], schema=schema)


def rows(block: Block) -> int:
    """Rows of a batch; a blob counts as one value."""
    return 1 if isinstance(block, bytes) else block.num_rows


def require_batch(block: Block, operation: str) -> pa.RecordBatch:
    if isinstance(block, bytes):
        raise DataError(
            f"{operation} works on tables of rows keyed by sid, and this partition is an opaque blob",
            hint="use map_partitions_with_index or zip_partitions for tables of blobs",
        )
    if SID not in block.schema.names:
        raise DataError(
            f"{operation}: the batch has no {SID!r} column (columns: {', '.join(block.schema.names)})",
            hint=f"key every row by a string column named {SID!r}",
        )
    return block


def sid_hashes(sids: pa.Array[Any] | pa.ChunkedArray[Any]) -> npt.NDArray[np.uint64]:
    """FNV-1a 64 of each sid's UTF-8 bytes, one pass per byte position over all rows at once."""
    if isinstance(sids, pa.ChunkedArray):
        sids = sids.combine_chunks() if sids.num_chunks else pa.array([], pa.string())
    if sids.null_count:
        raise DataError(f"{sids.null_count} row(s) have no {SID}", hint="give every row a sample id")
    array = sids.cast(pa.large_string())
    count = len(array)
    hashes = np.full(count, FNV_OFFSET, dtype=np.uint64)
    if count == 0:
        return hashes
    _, offset_buffer, data_buffer = array.buffers()
    assert offset_buffer is not None  # a string array always has offsets
    first = array.offset
    offsets = np.frombuffer(memoryview(offset_buffer), dtype=np.int64)[first : first + count + 1]
    data = np.frombuffer(memoryview(data_buffer) if data_buffer is not None else b"", dtype=np.uint8)
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    prime = np.uint64(FNV_PRIME)
    shortest, longest = int(lengths.min()), int(lengths.max())
    # Byte positions every sid has are one vector step over all rows; beyond that, rows are visited
    # in order of length, so position j touches only the rows still that long.
    for position in range(shortest):
        hashes ^= data[starts + position]
        hashes *= prime
    if longest > shortest:
        order = np.argsort(lengths, kind="stable")
        sorted_lengths = lengths[order]
        for position in range(shortest, longest):
            live = order[np.searchsorted(sorted_lengths, position, side="right") :]
            hashes[live] = (hashes[live] ^ data[starts[live] + position]) * prime
    return hashes


def sid_partitions(sids: pa.Array[Any] | pa.ChunkedArray[Any], partitions: int) -> npt.NDArray[np.int64]:
    """The partition (0 .. partitions-1) of each sid."""
    return (sid_hashes(sids) % np.uint64(partitions)).astype(np.int64)


def sid_partition(sid: str, partitions: int) -> int:
    """The partition of one sid, computed the plain way (the definition the vector form follows)."""
    value = FNV_OFFSET
    for byte in sid.encode("utf-8"):
        value = ((value ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value % partitions


def split_by_sid(batch: pa.RecordBatch, partitions: int) -> list[pa.RecordBatch]:
    """The rows of ``batch`` for each partition, in partition order (empty batches included)."""
    targets = sid_partitions(batch.column(SID), partitions)
    order = np.argsort(targets, kind="stable")
    bounds = np.searchsorted(targets[order], np.arange(partitions + 1))
    arranged = batch.take(order)
    return [arranged.slice(int(bounds[i]), int(bounds[i + 1] - bounds[i])) for i in range(partitions)]


def keep_sids(batch: pa.RecordBatch, sids: pa.Array[Any], *, inside: bool) -> pa.RecordBatch:
    """The rows of ``batch`` whose sid is (``inside``) or is not in ``sids``."""
    found = pc.is_in(batch.column(SID), value_set=sids)
    return batch.filter(found if inside else pc.invert(found))
