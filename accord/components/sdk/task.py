"""What a worker hands a component to run one task: who, what, where, and a way to be stopped.

It lives in the SDK (not the registry) so a component package needs nothing but the SDK; the registry
re-exports it for plug-ins written against the older path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.identity import Party

if TYPE_CHECKING:
    from accord.components.sdk.services import TaskServices
    from accord.dsl_compiler.plan import JobPlan


class TaskCancelled(Exception):
    """Raised inside a component when its task was stopped; the task ends as canceled."""


@dataclass
class TaskContext:
    job_id: str
    party: Party
    component: str
    module: str
    task_version: int
    parameters: Mapping[str, Any]
    work_dir: Path
    cancelled: threading.Event = field(default_factory=threading.Event)
    # The job's plan and the worker's services; components built on the SDK need both.
    plan: JobPlan | None = None
    services: TaskServices | None = None
    # Where the worker takes the task's progress (done, total, note); it records at most one a second.
    on_progress: Callable[[int, int, str], None] | None = None

    def check_cancelled(self) -> None:
        """Components call this between steps so that a stop takes effect promptly."""
        if self.cancelled.is_set():
            raise TaskCancelled(
                f"task {self.component} v{self.task_version} of job {self.job_id} was stopped"
            )

    def progress(self, done: int, total: int, note: str = "") -> None:
        """Report that ``done`` of ``total`` steps (iterations, trees) are done; ``note`` e.g. the loss."""
        if self.on_progress is not None:
            self.on_progress(done, total, note)

    def sleep(self, seconds: float) -> None:
        """Wait, waking up at once if the task is stopped."""
        if self.cancelled.wait(seconds):
            self.check_cancelled()
