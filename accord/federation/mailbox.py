"""Where values sent to this site's parties wait for their receiver: files under the site's home.

A value is written to a temporary file and renamed into place once complete, so a receiver sees a whole
value or nothing, and a value that arrives before its receiver asks for it simply waits on disk. The key
includes the task version, so a value sent by an earlier run of a task is never taken by a later one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from accord.errors import ArgumentError, NameInvalid, TransferTimeout
from accord.identity import Party
from accord.names import MAX_NAME_BYTES, shown, text_problem

_POLL_FIRST_S = 0.0005
# A look is one failed open(); a short cap keeps each exchange of an iteration from waiting idle.
_POLL_MAX_S = 0.002


def _segment(value: str, what: str) -> str:
    # Keys come from the network: one path segment each, and never one that climbs out of the mailbox.
    if not value or value in (".", ".."):
        raise ArgumentError(f"a transfer has an empty or reserved {what}: {value!r}")
    # Each is one file name: real text that fits once quoted, or the write fails deep inside (a 500).
    problem = text_problem(value, max_chars=MAX_NAME_BYTES)
    segment = quote(value, safe="-_.") if problem is None else ""
    if problem is None and len(segment) > MAX_NAME_BYTES:
        problem = f"takes {len(segment)} bytes as a file name, more than {MAX_NAME_BYTES}"
    if problem is not None:
        raise NameInvalid(
            f"a transfer's {what} {shown(value)} {problem}",
            hint=f"use a shorter {what} of letters, digits, '_', '-' and '.'",
            field=what,
        )
    return segment


@dataclass(frozen=True)
class TransferKey:
    job_id: str
    component: str
    task_version: int
    tag: str
    source: Party
    destination: Party

    def __post_init__(self) -> None:
        # Checked once, where a key is made: from a peer's header or by a sending component.
        self.relative_path()

    def relative_path(self) -> Path:
        return (
            Path(_segment(self.job_id, "job id"))
            / _segment(self.component, "component")
            / f"v{int(self.task_version)}"
            / _segment(self.tag, "tag")
            / (
                f"{_segment(self.source.role, 'source role')}-{int(self.source.party_id)}"
                f"__{_segment(self.destination.role, 'destination role')}-{int(self.destination.party_id)}"
            )
        )

    def describe(self) -> str:
        return (
            f"{self.tag!r} from {self.source.role} {self.source.party_id} to {self.destination.role} "
            f"{self.destination.party_id} (job {self.job_id}, {self.component} v{self.task_version})"
        )


class Mailbox:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: TransferKey) -> Path:
        return self.root / key.relative_path()

    def incoming(self, key: TransferKey) -> Path:
        """A fresh temporary file beside the value's place; :meth:`deliver` moves it there."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")

    def deliver(self, key: TransferKey, partial: Path) -> None:
        # A repeat of a value (a sender's retry) replaces it with identical bytes: harmless.
        os.replace(partial, self.path(key))

    def put(self, key: TransferKey, data: bytes) -> None:
        partial = self.incoming(key)
        partial.write_bytes(data)
        self.deliver(key, partial)

    def wait(
        self,
        key: TransferKey,
        *,
        timeout_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> bytes:
        """The value's bytes once it has arrived; TransferTimeout after ``timeout_s``.

        ``sleep`` is how to pause between looks; a task passes its own, which raises when it is stopped.
        """
        path = self.path(key)
        deadline = time.monotonic() + timeout_s
        pause = _POLL_FIRST_S
        while True:
            try:
                return path.read_bytes()
            except FileNotFoundError:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransferTimeout(
                    f"waited {timeout_s:g} s for {key.describe()}, and it has not arrived",
                    hint=f"the {key.source.role} party {key.source.party_id} may have failed or be "
                    "unreachable; see its task log, or raise the site's transfer_timeout_s",
                    job_id=key.job_id,
                )
            sleep(min(pause, remaining))
            pause = min(pause * 2, _POLL_MAX_S)

    def purge(self, job_id: str) -> None:
        shutil.rmtree(self.root / _segment(job_id, "job id"), ignore_errors=True)

    def job_bytes(self, job_id: str) -> int:
        """What one job's values (and partial arrivals) take on disk here; 0 when it has none."""
        total = 0
        for folder, _, files in os.walk(self.root / _segment(job_id, "job id")):
            for name in files:
                with contextlib.suppress(FileNotFoundError):
                    total += os.stat(os.path.join(folder, name)).st_size
        return total

    def job_ids(self) -> list[str]:
        """The jobs that have values here, by their job ids."""
        try:
            entries = list(self.root.iterdir())
        except FileNotFoundError:
            return []
        return [unquote(entry.name) for entry in entries if entry.is_dir()]
