"""The bodies of federation control commands between sites.

Each command travels as JSON of one of these models inside the gRPC envelope defined in
``proto/federation.proto``; the envelope carries the request id, the job and the source and
destination parties. Replies are models too. These same models are the activities' arguments.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from accord.dsl_compiler.plan import JobPlan
from accord.identity import Party, ReuseCandidate, TaskReport
from accord.status import JobStatus, TaskStatus

__all__ = ["Party", "TaskReport"]  # re-exported for the commands' users; defined in accord.identity


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreateJob(_Message):
    """Create the destination party's copy of a job and start its party workflow."""

    job_id: str
    party: Party
    initiator: Party
    dsl: dict[str, Any]
    runtime_conf: dict[str, Any]
    plan: JobPlan


class DeployModel(_Message):
    """Make a new model version on the destination party from its part of a trained one.

    ``job_id`` is the training job (the trained model's version); the new version holds the listed
    components' models and the predict DSL generated from the training DSL.
    """

    job_id: str
    party: Party
    model_id: str
    new_version: str
    components: tuple[str, ...]
    predict_dsl: dict[str, Any]


class ApplyResource(_Message):
    job_id: str
    party: Party
    engine_name: str
    cores: int = Field(ge=0)


class ResourceReply(_Message):
    granted: bool
    reason: str = ""


class ReturnResource(_Message):
    job_id: str
    party: Party


class StartTask(_Message):
    job_id: str
    party: Party
    component: str
    task_id: str
    task_version: int = Field(ge=0)
    # Take this earlier run's outputs instead of running (every party of the task agreed to).
    reuse_from: ReuseCandidate | None = None


class ProbeReuse(_Message):
    """Which earlier runs of the task could the destination party reuse for this job's task?"""

    job_id: str
    party: Party
    component: str


class ReuseOffer(_Message):
    """A party's answer to :class:`ProbeReuse`: the runs it could reuse, newest first (maybe none)."""

    party: Party
    candidates: tuple[ReuseCandidate, ...] = ()


class StopTask(_Message):
    job_id: str
    party: Party
    component: str
    task_version: int = Field(ge=0)
    # The status the stopped task ends with: canceled on stop, failed when another party failed.
    status: Literal[TaskStatus.CANCELED, TaskStatus.FAILED, TaskStatus.TIMEOUT] = TaskStatus.CANCELED


class QueryStatus(_Message):
    job_id: str
    party: Party
    # Only tasks of these components; empty asks for all.
    components: tuple[str, ...] = ()


class StatusReply(_Message):
    tasks: tuple[TaskReport, ...] = ()


class UpdateJobStatus(_Message):
    """The initiator tells a party how the job stands (running, and finally its end status)."""

    job_id: str
    party: Party
    status: JobStatus
    reason: str = ""


class Ack(_Message):
    ok: bool = True
    detail: str = ""


class Ping(_Message):
    party_id: int | None = None


class Pong(_Message):
    site_party_ids: tuple[int, ...] = ()
    version: str = ""
