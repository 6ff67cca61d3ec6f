"""Counters of one process (server or worker), shared with the server's ``/metrics`` through the home.

The server and the workers of a site are separate processes, possibly in separate containers that
share only the site's home. Each process counts in memory (:class:`ProcessMetrics`) and, every
``interval_s`` and when it stops, writes a snapshot of its counters to one file of its own under the
site's metrics directory (``<home>/run/metrics``, 0700; files 0600, replaced atomically). The server's
collector (:mod:`accord.metrics.collector`) sums the snapshots at scrape time, and the time each was
written is the process's liveness. Unlike prometheus_client's multiprocess mode this needs no
environment variable set before the library is imported, and a process without a directory
(``directory=None``) still counts, in memory only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.crypto import counting

log = logging.getLogger(__name__)

FEDERATION_CALLS = "accord_federation_calls"
FEDERATION_BYTES = "accord_federation_bytes"
PAILLIER_OPERATIONS = "accord_paillier_operations"

# name -> (help, label names): every counter a process keeps.
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    FEDERATION_CALLS: (
        "Federation calls to peer sites, by peer party, method and outcome "
        "(ok, refused, failed, unreachable, bad_reply).",
        ("peer", "method", "outcome"),
    ),
    FEDERATION_BYTES: (
        "Bytes of federation calls, by peer party, direction (sent, received) and outcome.",
        ("peer", "direction", "outcome"),
    ),
    PAILLIER_OPERATIONS: (
        "Paillier operations on ciphertexts, by operation (encrypt, decrypt, rerandomize, add, "
        "multiply, exponentiation).",
        ("operation",),
    ),
}
DEFAULT_INTERVAL_S = 5.0
SNAPSHOT_SUFFIX = ".json"

Labels = tuple[str, ...]


def metrics_directory(home: Path) -> Path:
    """Where a site's processes leave their snapshots."""
    return home / "run" / "metrics"


@dataclass(frozen=True)
class Snapshot:
    """What one process last wrote: who it is, when, and its counters."""

    kind: str
    instance: str
    started_s: float
    written_s: float
    interval_s: float
    counters: dict[str, dict[Labels, float]]

    def to_json(self) -> str:
        counters = {
            name: [[list(labels), value] for labels, value in series.items()]
            for name, series in self.counters.items()
        }
        return json.dumps(
            {
                "kind": self.kind,
                "instance": self.instance,
                "started_s": self.started_s,
                "written_s": self.written_s,
                "interval_s": self.interval_s,
                "counters": counters,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        raw: dict[str, Any] = json.loads(text)
        counters: dict[str, dict[Labels, float]] = {}
        for name, series in dict(raw.get("counters", {})).items():
            if name not in COUNTERS:
                continue  # a counter a newer version keeps; this server cannot describe it
            width = len(COUNTERS[name][1])
            counters[name] = {
                tuple(str(v) for v in labels): float(value)
                for labels, value in series
                if len(labels) == width
            }
        return cls(
            kind=str(raw["kind"]),
            instance=str(raw["instance"]),
            started_s=float(raw["started_s"]),
            written_s=float(raw["written_s"]),
            interval_s=float(raw["interval_s"]),
            counters=counters,
        )


class ProcessMetrics:
    """The counters of one process, thread-safe (components count from their threads)."""

    def __init__(
        self,
        kind: str,
        *,
        directory: Path | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        clock: Any = time.time,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.kind = kind
        self.directory = directory
        self.interval_s = interval_s
        self._clock = clock
        # Unique across restarts and hosts: a restarted worker must not overwrite its predecessor's
        # totals, which the server keeps summing until the file is pruned.
        self.instance = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.started_s = clock()
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {name: {} for name in COUNTERS}

    @classmethod
    def for_site(cls, home: Path, kind: str, *, interval_s: float = DEFAULT_INTERVAL_S) -> ProcessMetrics:
        return cls(kind, directory=metrics_directory(home), interval_s=interval_s)

    # ---- counting ---------------------------------------------------------------------------

    def add(self, name: str, labels: Labels, amount: float = 1.0) -> None:
        series = self._counters[name]
        with self._lock:
            series[labels] = series.get(labels, 0.0) + amount

    def federation_call(self, peer: int, method: str, outcome: str, sent: int, received: int) -> None:
        """:class:`accord.federation.client.CallMeter`."""
        party = str(peer)
        self.add(FEDERATION_CALLS, (party, method, outcome))
        if sent:
            self.add(FEDERATION_BYTES, (party, "sent", outcome), sent)
        if received:
            self.add(FEDERATION_BYTES, (party, "received", outcome), received)

    def paillier(self, operation: str, elements: int) -> None:
        """The sink of :mod:`accord.crypto.counting`."""
        self.add(PAILLIER_OPERATIONS, (operation,), elements)

    @contextlib.contextmanager
    def counting_paillier(self) -> Iterator[None]:
        """Receive this process's Paillier counts while the block runs."""
        counting.set_sink(self.paillier)
        try:
            yield
        finally:
            counting.set_sink(None)

    # ---- sharing ----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            counters = {name: dict(series) for name, series in self._counters.items()}
        return Snapshot(self.kind, self.instance, self.started_s, self._clock(), self.interval_s, counters)

    @property
    def path(self) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"{self.kind}-{self.instance}{SNAPSHOT_SUFFIX}"

    def write(self) -> None:
        """Replace this process's snapshot file (nothing without a directory)."""
        path = self.path
        if path is None:
            return
        ensure_directory(path.parent)
        partial = path.with_name(f".{path.name}.part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(self.snapshot().to_json())
        os.replace(partial, path)

    async def run(self, stop: asyncio.Event) -> None:
        """Write a snapshot every ``interval_s`` until ``stop`` is set, and once more then."""
        while True:
            try:
                await asyncio.to_thread(self.write)
            except OSError as error:
                # Metrics must never stop the process; the next beat tries again.
                log.warning("cannot write the metrics snapshot %s: %s", self.path, error)
            if stop.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)


def ensure_directory(directory: Path) -> None:
    """The metrics directory, 0700: counters say what the site works on and with whom."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if directory.stat().st_mode & 0o077:
        directory.chmod(0o700)
