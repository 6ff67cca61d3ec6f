"""One peer of this party in an intersection, with the tags of one protocol step under a prefix.

Values cross whole; tables cross a partition at a time (:meth:`Link.send_table`), so neither side
ever holds a whole table to send or receive it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from accord.components.sdk import Transfer
from accord.computing import BlockTable, Engine
from accord.errors import TransferError

# A peer announcing more partitions than any engine makes is refused before anything is read.
MAX_PARTITIONS = 65536


class Link:
    def __init__(
        self, transfer: Transfer, role: str, index: int, *, prefix: str, checkpoint: Callable[[], None]
    ) -> None:
        self.transfer = transfer
        self.role = role
        self.index = index
        self.prefix = prefix
        # Called between steps so that a stopped task ends promptly.
        self.checkpoint = checkpoint

    @property
    def party_id(self) -> int:
        return self.transfer.parties(self.role, self.index)[0].party_id

    def under(self, prefix: str) -> Link:
        return Link(
            self.transfer, self.role, self.index, prefix=f"{self.prefix}.{prefix}", checkpoint=self.checkpoint
        )

    def send(self, name: str, value: Any) -> None:
        self.checkpoint()
        self.transfer.remote(value, role=self.role, tag=f"{self.prefix}.{name}", index=self.index)

    def receive(self, name: str) -> Any:
        self.checkpoint()
        return self.transfer.get(role=self.role, tag=f"{self.prefix}.{name}", index=self.index)

    def send_table(self, name: str, table: BlockTable) -> None:
        """``table`` to the peer a partition at a time: its partition count, then each partition."""
        self.send(f"{name}.partitions", table.partitions)
        table.send(functools.partial(self._send_part, name))

    def _send_part(self, name: str, index: int, data: bytes) -> None:
        self.send(f"{name}.{index}", data)

    def receive_table(self, name: str, engine: Engine, *, partitions: int | None = None) -> BlockTable:
        """The table the peer sent under ``name``, taken a partition at a time (``partitions`` if known)."""
        count = self.receive(f"{name}.partitions")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_PARTITIONS:
            raise TransferError(
                f"the peer sent {name} in {count!r} partitions, which is not a partition count"
            )
        if partitions is not None and count != partitions:
            raise TransferError(
                f"the peer sent {name} in {count} partitions where {partitions} were agreed",
                hint="both parties must run the same version of the Intersection component",
            )
        return engine.receive((self._part(name, index) for index in range(count)), count)

    def _part(self, name: str, index: int) -> tuple[int, bytes]:
        data = self.receive(f"{name}.{index}")
        if not isinstance(data, bytes):
            raise TransferError(f"the peer sent partition {index} of {name} as something other than bytes")
        return index, data
