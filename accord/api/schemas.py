"""Request and response bodies of the HTTP API (FATE-Flow's v1 names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord.persistence import JobRecord, TaskRecord


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitBody(_Body):
    job_dsl: dict[str, Any] = Field(description="DSL v2")
    job_runtime_conf: dict[str, Any] = Field(description="runtime conf v2")


class JobQueryBody(_Body):
    job_id: str
    role: str | None = None
    party_id: int | None = None


class JobListBody(_Body):
    limit: int = Field(default=20, ge=1, le=1000)
    status: str | None = None


class JobIdBody(_Body):
    job_id: str


class RerunBody(_Body):
    job_id: str
    component_name: str | None = None
    force: bool = False


class TaskQueryBody(_Body):
    job_id: str
    component_name: str | None = None


class Envelope(BaseModel):
    retcode: int = 0
    retmsg: str = "success"
    data: Any = None
    # FATE-Flow's spelling.
    jobId: str | None = None


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


def job_row(record: JobRecord) -> dict[str, Any]:
    return {
        "f_job_id": record.job_id,
        "f_role": record.role,
        "f_party_id": record.party_id,
        "f_status": record.status.value,
        "f_status_reason": record.status_reason,
        "f_is_initiator": record.is_initiator,
        "f_initiator_role": record.initiator_role,
        "f_initiator_party_id": record.initiator_party_id,
        "f_progress": record.progress,
        "f_cores": record.cores,
        "f_resource_in_use": record.resource_in_use,
        "f_model_id": record.model_id,
        "f_model_version": record.model_version,
        "f_create_time": _ms(record.create_time),
        "f_start_time": _ms(record.start_time),
        "f_end_time": _ms(record.end_time),
        "f_elapsed": record.elapsed_ms,
    }


def task_row(record: TaskRecord) -> dict[str, Any]:
    return {
        "f_job_id": record.key.job_id,
        "f_component_name": record.key.component_name,
        "f_task_id": record.task_id,
        "f_task_version": record.key.task_version,
        "f_role": record.key.role,
        "f_party_id": record.key.party_id,
        "f_status": record.status.value,
        "f_party_status": record.party_status.value,
        "f_create_time": _ms(record.create_time),
        "f_start_time": _ms(record.start_time),
        "f_end_time": _ms(record.end_time),
        "f_elapsed": record.elapsed_ms,
    }
