"""Per-job logs on disk, under ``<home>/logs/jobs/<job id>/``.

``<role>_<party id>/schedule.log`` has what the scheduler did for a party (created, resources, tasks
started and stopped). ``<role>/<party id>/<component>/`` holds each task's own log, as FATE lays it out:
``INFO.log`` with everything the task's thread logged (its iterations, the data it exchanged) and
``ERROR.log`` with its errors and tracebacks.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tarfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

TASK_LOG = "INFO.log"
TASK_ERRORS = "ERROR.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JobLog:
    def __init__(self, home: Path) -> None:
        self._root = home / "logs" / "jobs"
        self._lock = threading.Lock()

    def directory(self, job_id: str) -> Path:
        return self._root / job_id

    def task_dir(self, job_id: str, role: str, party_id: int, component: str) -> Path:
        return self.directory(job_id) / role / str(party_id) / component

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


class TaskLogRouter(logging.Handler):
    """One handler on the root logger that sends each record to the log of the task whose thread made it.

    Components run in threads of one worker process; a record made in a task's thread belongs to that
    task. Installed once: adding and removing handlers per task would mutate the root logger's handler
    list while other threads walk it.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self._tasks: dict[int, list[logging.Handler]] = {}
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        handlers = self._tasks.get(record.thread or 0)
        for handler in handlers or ():
            if record.levelno >= handler.level:
                handler.handle(record)

    @contextlib.contextmanager
    def capture(self, folder: Path) -> Iterator[None]:
        """Write what the calling thread logs, while in the block, to ``folder``'s INFO.log and ERROR.log."""
        folder.mkdir(parents=True, exist_ok=True)
        formatter = logging.Formatter(_FORMAT)
        handlers: list[logging.Handler] = []
        for name, level in ((TASK_LOG, logging.INFO), (TASK_ERRORS, logging.ERROR)):
            # delay: a task that logs no error leaves no empty ERROR.log behind.
            handler = logging.FileHandler(folder / name, encoding="utf-8", delay=True)
            handler.setLevel(level)
            handler.setFormatter(formatter)
            handlers.append(handler)
        ident = threading.get_ident()
        with self._guard:
            self._tasks = {**self._tasks, ident: handlers}
        try:
            yield
        finally:
            with self._guard:
                self._tasks = {k: v for k, v in self._tasks.items() if k != ident}
            for opened in handlers:
                opened.close()

    @classmethod
    def install(cls) -> TaskLogRouter:
        """The process's router, added to the root logger on first use.

        INFO records of components are let through even where the process logs only warnings, so a
        task's log always has its iterations.
        """
        root = logging.getLogger()
        for handler in root.handlers:
            if isinstance(handler, cls):
                return handler
        router = cls()
        root.addHandler(router)
        for name in ("accord.component", "accord.components"):
            logger = logging.getLogger(name)
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)
        return router
