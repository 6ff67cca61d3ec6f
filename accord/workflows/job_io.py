"""What the job workflow takes, returns and shows: its input (spec, rerun, resume) and its views.

Payloads of Temporal (so small: the plan travels inside the spec, bounded at submit) that the site reads
too; kept apart from the workflow's orchestration so that readers of a job's result or view need not
import the workflow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from accord.identity import Party, TaskReport
from accord.status import JobStatus
from accord.workflows.dag import DagState
from accord.workflows.spec import JobSpec


class RerunRequest(BaseModel):
    previous: DagState
    component: str | None = None
    force: bool = False


class Resume(BaseModel):
    """What a continued-as-new run carries over."""

    dag: DagState
    started_at: datetime
    held: list[Party]
    reports: list[TaskReport] = Field(default_factory=list)
    stop_requested: bool = False
    pause_requested: bool = False
    # A forced rerun reuses nothing, in its continued runs too.
    reuse_off: bool = False
    search_attributes: bool = False


class JobInput(BaseModel):
    spec: JobSpec
    max_concurrent_jobs: int = 5
    rerun: RerunRequest | None = None
    resume: Resume | None = None
    # Events after which the run continues as new, keeping the history far from Temporal's limits.
    history_limit: int = 8000
    pull_interval_ms: int = 200


class JobResult(BaseModel):
    status: JobStatus
    reason: str = ""
    dag: DagState


class JobView(BaseModel):
    status: JobStatus
    reason: str
    components: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Asked to pause: it is pausing (tasks still running) or paused.
    pause_requested: bool = False
