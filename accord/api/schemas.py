"""Request and response bodies of the HTTP API (FATE-Flow's v1 names)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from accord.dsl_compiler.jsonio import check_document
from accord.errors import ArgumentError
from accord.names import text_problem
from accord.persistence import JobRecord, TaskRecord
from accord.site.jobs import SubmitResult
from accord.site.progress import task_fraction
from accord.status import JobStatus, TaskStatus
from accord.workflows.job_io import JobView

T = TypeVar("T")


def _name_text(value: str) -> str:
    # A lone surrogate or a control character would fail deep in a query or a path: refuse it here.
    problem = text_problem(value, max_chars=128)
    if problem is not None:
        raise ValueError(problem)
    return value


JobId = Annotated[
    str,
    Field(min_length=1, max_length=128, description="a job id as submit returned it"),
    AfterValidator(_name_text),
]
ComponentName = Annotated[
    str,
    Field(min_length=1, max_length=128, description="a component of the job's DSL"),
    AfterValidator(_name_text),
]
Role = Literal["guest", "host", "arbiter", "local"]
PartyId = Annotated[
    int, Field(ge=0, le=2**63 - 1, description="a party id; FATE clients may send it as a string")
]


ModelId = Annotated[str, Field(min_length=1, max_length=255, description="e.g. guest-9999#host-10000#model")]
ModelVersion = Annotated[
    str, Field(min_length=1, max_length=64, description="the training job's id, or a deployed version")
]


class _Body(BaseModel):
    # A misspelt field would otherwise be ignored and the request silently mean something else.
    model_config = ConfigDict(extra="forbid")


class ModelVersionBody(_Body):
    model_id: ModelId
    model_version: ModelVersion


class SubmitBody(_Body):
    job_dsl: dict[str, Any] = Field(description="the job's DSL v2")
    job_runtime_conf: dict[str, Any] = Field(description="the job's runtime conf v2")


class JobQueryBody(_Body):
    job_id: JobId
    role: Role | None = None
    party_id: PartyId | None = None
    status: JobStatus | None = None


class JobListBody(_Body):
    limit: int = Field(default=20, ge=1, le=1000, description="at most this many party rows, newest first")
    status: JobStatus | None = None


class JobIdBody(_Body):
    job_id: JobId


class StopBody(_Body):
    job_id: JobId
    stop_status: Literal["canceled"] = Field(
        default="canceled", description="FATE-Flow's field; this site only stops jobs as canceled"
    )


class ParameterUpdateBody(_Body):
    job_id: JobId
    job_parameters: dict[str, Any] | None = Field(
        default=None, description='merged into the conf\'s job_parameters, e.g. {"common": {"task_cores": 2}}'
    )
    component_parameters: dict[str, Any] | None = Field(
        default=None,
        description='merged into the conf\'s component_parameters, e.g. {"common": {"hetero_lr_0": '
        '{"max_iter": 5}}}',
    )


class RerunBody(_Body):
    job_id: JobId
    component_name: ComponentName | None = Field(
        default=None, description="rerun from this component and everything downstream of it"
    )
    force: bool = Field(default=False, description="rerun components that already succeeded too")


class TaskQueryBody(_Body):
    job_id: JobId
    component_name: ComponentName | None = None
    role: Role | None = None
    party_id: PartyId | None = None
    status: TaskStatus | None = None


class Envelope(BaseModel, Generic[T]):
    """FATE-Flow's reply: ``retcode`` 0 on success, else a coded error whose ``retmsg`` says why."""

    retcode: int = Field(default=0, description="0, or the error's code (its family is code // 100)")
    retmsg: str = "success"
    data: T | None = None
    # FATE-Flow's spelling.
    jobId: str | None = None


class ErrorEnvelope(BaseModel):
    """A coded error: ``retcode`` is never 0; ``data`` carries details such as the invalid fields."""

    retcode: int
    retmsg: str
    data: dict[str, Any] | None = None
    jobId: str | None = None


# Stored documents deeper than this are not shown: the reply holding them would fail to serialize.
_SHOWN_DEPTH = 128


def _shown_document(document: dict[str, Any], what: str) -> dict[str, Any]:
    """A stored DSL or conf as it can be shown; a note in its place if it cannot be.

    Jobs stored before submit checked documents may hold one no reply can carry (too deep, a lone
    surrogate): that must not turn every `job query` and `job list` into a 500.
    """
    try:
        check_document(document, what, max_depth=_SHOWN_DEPTH)
    except ArgumentError as error:
        return {"accord_unshown": f"the stored {error.message}; it cannot be shown"}
    return document


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


class JobRow(BaseModel):
    """One party's job, with FATE-Flow's column names; times are milliseconds since the epoch."""

    f_job_id: str
    f_role: str
    f_party_id: int
    f_status: JobStatus
    f_status_reason: str
    f_is_initiator: bool
    f_initiator_role: str
    f_initiator_party_id: int
    f_progress: int = Field(
        description="percent done: finished components over all, plus the running ones' own progress"
    )
    f_cores: int
    f_resource_in_use: bool
    f_model_id: str | None
    f_model_version: str | None
    f_description: str
    f_dsl: dict[str, Any]
    f_runtime_conf: dict[str, Any]
    f_create_time: int | None
    f_update_time: int | None
    f_start_time: int | None
    f_end_time: int | None
    f_elapsed: int | None
    f_live: JobView | None = Field(
        default=None,
        description="accord's addition: the scheduler's own view (status, reason, each component's "
        "status) while the job workflow runs; null once it has ended",
    )
    f_reused: dict[str, str] = Field(
        default_factory=dict,
        description="accord's addition: the components this party took from an earlier run instead of "
        "running them, component name → 'job X, component Y, version V'",
    )

    @classmethod
    def of(
        cls,
        record: JobRecord,
        live: JobView | None = None,
        progress: int | None = None,
        reused: dict[str, str] | None = None,
    ) -> JobRow:
        """The row; ``progress`` is the job's as :func:`accord.site.progress.party_progress` counts it."""
        return cls(
            f_job_id=record.job_id,
            f_role=record.role,
            f_party_id=record.party_id,
            f_status=record.status,
            f_status_reason=record.status_reason,
            f_is_initiator=record.is_initiator,
            f_initiator_role=record.initiator_role,
            f_initiator_party_id=record.initiator_party_id,
            f_progress=record.progress if progress is None else progress,
            f_cores=record.cores,
            f_resource_in_use=record.resource_in_use,
            f_model_id=record.model_id,
            f_model_version=record.model_version,
            f_description=record.description,
            f_dsl=_shown_document(record.dsl, "dsl"),
            f_runtime_conf=_shown_document(record.runtime_conf, "conf"),
            f_create_time=_ms(record.create_time),
            f_update_time=_ms(record.update_time),
            f_start_time=_ms(record.start_time),
            f_end_time=_ms(record.end_time),
            f_elapsed=record.elapsed_ms,
            f_live=live,
            f_reused=reused or {},
        )


class JobList(BaseModel):
    jobs: list[JobRow]
    count: int


class TaskRow(BaseModel):
    """One party's task of one component version; ``f_status`` is the federated status."""

    f_job_id: str
    f_component_name: str
    f_task_id: str
    f_task_version: int
    f_role: str
    f_party_id: int
    f_status: TaskStatus
    f_party_status: TaskStatus
    f_auto_retries: int
    f_create_time: int | None
    f_update_time: int | None
    f_start_time: int | None
    f_end_time: int | None
    f_elapsed: int | None
    f_error: str = Field(default="", description="the task's failure as reported (at most about 4 KiB)")
    f_progress: int = Field(default=0, description="percent of its steps done (iterations, trees)")
    f_progress_done: int = 0
    f_progress_total: int = 0
    f_progress_note: str = Field(
        default="", description="what the task last said with its progress, e.g. the loss"
    )
    f_reused_from: str | None = Field(
        default=None,
        description="the earlier run whose outputs the task took instead of running "
        "(job X, component Y, version V)",
    )

    @classmethod
    def of(cls, record: TaskRecord) -> TaskRow:
        return cls(
            f_job_id=record.key.job_id,
            f_component_name=record.key.component_name,
            f_task_id=record.task_id,
            f_task_version=record.key.task_version,
            f_role=record.key.role,
            f_party_id=record.key.party_id,
            f_status=record.status,
            f_party_status=record.party_status,
            f_auto_retries=record.auto_retries,
            f_create_time=_ms(record.create_time),
            f_update_time=_ms(record.update_time),
            f_start_time=_ms(record.start_time),
            f_end_time=_ms(record.end_time),
            f_elapsed=record.elapsed_ms,
            f_error=record.error,
            f_progress=int(100 * task_fraction(record)),
            f_progress_done=record.progress_done,
            f_progress_total=record.progress_total,
            f_progress_note=record.progress_note,
            f_reused_from=record.reused_from,
        )


class VersionData(BaseModel):
    accord: str
    API: str = "v1"


__all__ = [
    "ComponentName",
    "Envelope",
    "ErrorEnvelope",
    "JobIdBody",
    "JobList",
    "JobListBody",
    "JobQueryBody",
    "JobRow",
    "RerunBody",
    "StopBody",
    "SubmitBody",
    "SubmitResult",
    "TaskQueryBody",
    "TaskRow",
    "VersionData",
]
