"""What both engines build alike: sid-partitioned tables spooled to their scratch space, blobs as blocks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

import pyarrow as pa

from accord.computing import layout
from accord.computing.block import Block
from accord.computing.table import BlockTable, check_partitions


class SpooledEngine(ABC):
    """Base of the local and Spark engines: they differ in how they read and spread blocks, not here."""

    partitions: int

    @abstractmethod
    def scratch(self, name: str) -> str: ...

    @abstractmethod
    def read(self, location: str) -> BlockTable: ...

    @abstractmethod
    def parallelize(self, blocks: Sequence[Block]) -> BlockTable: ...

    def from_batches(
        self,
        batches: Iterable[pa.RecordBatch],
        partitions: int | None = None,
        schema: pa.Schema | None = None,
    ) -> BlockTable:
        count = check_partitions(partitions or self.partitions, "from_batches")
        return self.read(layout.spool_by_sid(self.scratch("table"), batches, count, schema))

    def from_blobs(self, blobs: Sequence[bytes]) -> BlockTable:
        return self.parallelize(list(blobs))
