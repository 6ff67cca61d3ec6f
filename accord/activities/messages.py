"""Arguments of the activities; Temporal payloads, so small values and references only."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from accord.federation.commands import Party, TaskReport
from accord.status import JobStatus, TaskStatus


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JobParties(_Frozen):
    job_id: str
    initiator: Party
    parties: tuple[Party, ...]


class TaskFanout(_Frozen):
    job_id: str
    component: str
    task_version: int
    parties: tuple[Party, ...]
    # For stops: the status the stopped tasks end with.
    status: TaskStatus = TaskStatus.CANCELED


class JobStatusFanout(_Frozen):
    job_id: str
    parties: tuple[Party, ...]
    status: JobStatus
    reason: str = ""


class JobEndDelivery(_Frozen):
    """A job's end, for the parties it could not reach when it ended."""

    job_id: str
    initiator: Party
    parties: tuple[Party, ...]
    # Of those, the parties that still hold cores for the job.
    held: tuple[Party, ...]
    status: JobStatus
    reason: str = ""


class ResourceClaim(_Frozen):
    party: Party
    engine: str
    cores: int


class ResourceClaims(_Frozen):
    job_id: str
    claims: tuple[ResourceClaim, ...]


class StatusQuery(_Frozen):
    job_id: str
    parties: tuple[Party, ...]
    components: tuple[str, ...] = ()


class RunTask(_Frozen):
    job_id: str
    party: Party
    component: str
    task_version: int
    initiator: Party
    push: bool


class ReportTask(_Frozen):
    report: TaskReport
    initiator: Party
    push: bool


class Enqueue(_Frozen):
    job_id: str
    max_concurrent_jobs: int
