"""Per-job scheduling logs on disk: ``<home>/logs/jobs/<job id>/<role>_<party id>/schedule.log``."""

from __future__ import annotations

import io
import tarfile
import threading
from datetime import UTC, datetime
from pathlib import Path


class JobLog:
    def __init__(self, home: Path) -> None:
        self._root = home / "logs" / "jobs"
        self._lock = threading.Lock()

    def directory(self, job_id: str) -> Path:
        return self._root / job_id

    def write(self, job_id: str, role: str, party_id: int, message: str) -> None:
        folder = self.directory(job_id) / f"{role}_{party_id}"
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / "schedule.log").open("a", encoding="utf-8") as log:
                log.write(f"{stamp} {message}\n")

    def archive(self, job_id: str) -> bytes:
        """The job's log folder as a .tar.gz, as FATE's log download returns it."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            folder = self.directory(job_id)
            if folder.exists():
                tar.add(folder, arcname=job_id)
        return buffer.getvalue()
