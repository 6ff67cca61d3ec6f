"""One peer of this party in an intersection, with the tags of one protocol step under a prefix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.components.sdk import Transfer


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
