"""Who and what the whole system names: parties, job ids, task ids and a task's status report.

A base module: it imports nothing of Accord's but the status enums, so the DSL compiler, the
component SDK, the workflows, the federation transport and the site all name a party and a task the
same way without importing each other. The formats are FATE-Flow's: a job id is the submit time to
the microsecond plus a two-digit counter, a task id is ``<job id>_<component>``.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from accord.status import TaskStatus

_counter = itertools.count()
_lock = threading.Lock()


class Party(BaseModel):
    """One party of a job: a role and the party id it plays it as."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str
    party_id: int

    def __str__(self) -> str:
        return f"{self.role} {self.party_id}"


class TaskReport(BaseModel):
    """A party's task changed status; sent to the initiator (PUSH) or returned when asked (PULL)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    party: Party
    component: str
    task_version: int = Field(ge=0)
    status: TaskStatus
    error: str = ""
    elapsed_ms: int | None = None
    # The run was cut off (its worker lost), not failed by its component: the job runs it again.
    lost: bool = False


class ReuseCandidate(BaseModel):
    """An earlier successful run of a task whose outputs a new task may take instead of running.

    Named by the job and component it ran as there (the new job may name the component otherwise) and
    the task version whose outputs are kept.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    component: str
    task_version: int = Field(ge=0)

    def __str__(self) -> str:
        return f"job {self.job_id}, component {self.component}, version {self.task_version}"


def new_job_id(now: datetime | None = None) -> str:
    """A job id in FATE's form: the time to the microsecond, then a per-process counter."""
    moment = now or datetime.now(UTC)
    with _lock:
        sequence = next(_counter) % 100
    return f"{moment.strftime('%Y%m%d%H%M%S%f')}{sequence:02d}"


def task_id(job_id: str, component: str) -> str:
    """FATE-Flow's id of a component's task in a job (the same on every party and version)."""
    return f"{job_id}_{component}"
