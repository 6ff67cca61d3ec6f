"""What the worker lends every task it runs; one instance per worker process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from accord.components.sdk.transfer import Send
from accord.federation.mailbox import Mailbox
from accord.model_store import ModelStore
from accord.persistence import MetricRepository

if TYPE_CHECKING:
    from accord.storage import TableStore


@dataclass(frozen=True)
class TaskServices:
    tables: TableStore
    mailbox: Mailbox
    send: Send
    metrics: MetricRepository
    models: ModelStore
    # How long a component waits for a value from a peer before its task fails.
    transfer_timeout_s: float
