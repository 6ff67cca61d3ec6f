"""A table on disk, the same for both engines: one file per partition and a small description.

``<location>/_table.json`` holds the partition count, whether partitions are batches or blobs and
whether rows are partitioned by sid; partition i is ``part-<i>.parquet`` (a batch) or
``part-<i>.blob`` (a blob). One file per partition, rather than one row group per partition of a
single file, because partitions are written at once by several processes or executors. The
location is a local path or any URI pyarrow's filesystems read (``hdfs://``, ``s3://``), so a Spark
cluster's executors and the driver reach the same table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from accord.computing.block import (
    SID,
    Block,
    concat_batches,
    decode,
    empty_batch,
    require_batch,
    split_by_sid,
)
from accord.errors import DataError, RecordNotFound, TransferError

META_FILE = "_table.json"
FORMAT = 1
Kind = Literal["batch", "blob"]


@dataclass(frozen=True)
class TableMeta:
    partitions: int
    kind: Kind
    sid_partitioned: bool


def resolve(location: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and path of a local path or a URI."""
    if "://" in location:
        filesystem, path = pafs.FileSystem.from_uri(location)
        return filesystem, path
    return pafs.LocalFileSystem(), os.path.abspath(location)


def partition_path(root: str, index: int, kind: Kind) -> str:
    suffix = "parquet" if kind == "batch" else "blob"
    return f"{root}/part-{index:05d}.{suffix}"


def kind_of(block: Block) -> Kind:
    return "blob" if isinstance(block, bytes) else "batch"


def write_block(location: str, index: int, block: Block) -> Kind:
    """Write partition ``index`` of the table at ``location``; returns what it holds."""
    filesystem, root = resolve(location)
    filesystem.create_dir(root, recursive=True)
    kind = kind_of(block)
    path = partition_path(root, index, kind)
    if isinstance(block, bytes):
        with filesystem.open_output_stream(path) as out:
            out.write(block)
    else:
        pq.write_table(pa.Table.from_batches([block], block.schema), path, filesystem=filesystem)
    return kind


def read_block(location: str, index: int, kind: Kind) -> Block:
    filesystem, root = resolve(location)
    path = partition_path(root, index, kind)
    if kind == "blob":
        with filesystem.open_input_stream(path) as stream:
            return bytes(stream.read())
    table = pq.read_table(path, filesystem=filesystem)
    return concat_batches(table.to_batches(), table.schema)


def write_meta(location: str, meta: TableMeta) -> None:
    filesystem, root = resolve(location)
    filesystem.create_dir(root, recursive=True)
    body = {
        "format": FORMAT,
        "partitions": meta.partitions,
        "kind": meta.kind,
        "sid_partitioned": meta.sid_partitioned,
    }
    with filesystem.open_output_stream(f"{root}/{META_FILE}") as out:
        out.write(json.dumps(body).encode("utf-8"))


def read_meta(location: str) -> TableMeta:
    filesystem, root = resolve(location)
    try:
        with filesystem.open_input_stream(f"{root}/{META_FILE}") as stream:
            body = json.loads(stream.read())
    except FileNotFoundError:
        raise RecordNotFound(
            f"no block table at {location} (no {META_FILE})",
            hint="give the location a table was written to with BlockTable.write",
        ) from None
    if body.get("format") != FORMAT or body.get("kind") not in ("batch", "blob"):
        raise DataError(f"the table at {location} has a description this version cannot read: {body}")
    return TableMeta(int(body["partitions"]), body["kind"], bool(body["sid_partitioned"]))


def table_kind(location: str, kinds: list[Kind]) -> Kind:
    """The one kind of a table's partitions (a table mixing batches and blobs is refused)."""
    distinct = set(kinds)
    if len(distinct) > 1:
        raise DataError(
            f"the table written to {location} mixes record batches and blobs",
            hint="write tables whose partitions are all batches or all blobs",
        )
    return distinct.pop() if distinct else "batch"


def row_group_count(file: str) -> int:
    filesystem, path = resolve(file)
    with filesystem.open_input_file(path) as handle:
        return int(pq.ParquetFile(handle).num_row_groups)


def read_row_group(file: str, index: int) -> pa.RecordBatch:
    filesystem, path = resolve(file)
    with filesystem.open_input_file(path) as handle:
        table = pq.ParquetFile(handle).read_row_group(index)
    return concat_batches(table.to_batches(), table.schema)


class Spool:
    """A table written a piece at a time: pieces of any partition, in any order, in bounded memory.

    Each partition's pieces go to its own Parquet writer as they come, so the caller (a driver
    streaming an upload, a receiver taking a peer's partitions) never holds more than one piece.
    """

    def __init__(self, location: str, partitions: int, schema: pa.Schema | None = None) -> None:
        self.location = location
        self.partitions = partitions
        self._schema = schema
        self._filesystem, self._root = resolve(location)
        self._filesystem.create_dir(self._root, recursive=True)
        self._writers: dict[int, pq.ParquetWriter] = {}

    def add(self, index: int, batch: pa.RecordBatch) -> None:
        if self._schema is None:
            self._schema = batch.schema
        writer = self._writers.get(index)
        if writer is None:
            path = partition_path(self._root, index, "batch")
            writer = pq.ParquetWriter(path, self._schema, filesystem=self._filesystem)
            self._writers[index] = writer
        writer.write_batch(batch)

    def close(self, *, sid_partitioned: bool) -> TableMeta:
        """Finish every partition (a partition that got nothing is written empty) and describe them."""
        schema = self._schema or pa.schema([(SID, pa.string())])
        for index in range(self.partitions):
            if index not in self._writers:
                self.add(index, empty_batch(schema))
        for writer in self._writers.values():
            writer.close()
        meta = TableMeta(self.partitions, "batch", sid_partitioned)
        write_meta(self.location, meta)
        return meta


def spool_by_sid(
    location: str, batches: Iterable[pa.RecordBatch], count: int, schema: pa.Schema | None
) -> str:
    """Write ``batches`` at ``location`` as ``count`` partitions split by sid, one batch at a time."""
    spool = Spool(location, count, schema)
    for batch in batches:
        rows = require_batch(batch, "from_batches")
        for index, piece in enumerate(split_by_sid(rows, count)):
            if piece.num_rows:
                spool.add(index, piece)
    spool.close(sid_partitioned=True)
    return location


def receive_into(location: str, parts: Iterable[tuple[int, bytes]], partitions: int) -> str:
    """Write a peer's partitions to ``location`` as they arrive; each must come exactly once."""
    kinds: dict[int, Kind] = {}
    for index, payload in parts:
        if not 0 <= index < partitions or index in kinds:
            raise TransferError(
                f"receive: partition {index} is out of range 0..{partitions - 1} or came twice",
                hint="the sender must send each partition of its table once",
            )
        kinds[index] = write_block(location, index, decode(payload))
    if len(kinds) != partitions:
        missing = sorted(set(range(partitions)) - set(kinds))
        raise TransferError(f"receive: partition(s) {missing[:10]} never came", hint="send the whole table")
    kind = table_kind(location, list(kinds.values()))
    write_meta(location, TableMeta(partitions, kind, sid_partitioned=False))
    return location
