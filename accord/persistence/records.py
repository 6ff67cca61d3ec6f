"""Plain frozen values that repositories accept and return.

Reads never hand out live ORM rows: a record stays valid after its session is gone and cannot write
back to the database by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.identity import task_id
from accord.status import JobStatus, TaskStatus


@dataclass(frozen=True, slots=True)
class NewJob:
    """What the scheduler knows when it creates one party's job row."""

    job_id: str
    role: str
    party_id: int
    initiator_role: str
    initiator_party_id: int
    dsl: dict[str, Any]
    runtime_conf: dict[str, Any]
    is_initiator: bool = False
    plan: dict[str, Any] | None = None
    model_id: str | None = None
    model_version: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class JobRecord:
    job_id: str
    role: str
    party_id: int
    status: JobStatus
    status_reason: str
    is_initiator: bool
    initiator_role: str
    initiator_party_id: int
    dsl: dict[str, Any]
    runtime_conf: dict[str, Any]
    plan: dict[str, Any] | None
    model_id: str | None
    model_version: str | None
    engine_type: str | None
    engine_name: str | None
    cores: int
    resource_in_use: bool
    progress: int
    description: str
    create_time: datetime
    update_time: datetime
    start_time: datetime | None
    end_time: datetime | None
    elapsed_ms: int | None


@dataclass(frozen=True, slots=True)
class TaskKey:
    job_id: str
    component_name: str
    task_version: int
    role: str
    party_id: int


@dataclass(frozen=True, slots=True)
class NewTask:
    key: TaskKey
    auto_retries: int = 0
    # FATE-Flow's convention; override only to interoperate with ids minted elsewhere.
    task_id: str | None = None

    @property
    def resolved_task_id(self) -> str:
        return self.task_id or task_id(self.key.job_id, self.key.component_name)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    key: TaskKey
    task_id: str
    status: TaskStatus
    party_status: TaskStatus
    worker_id: str | None
    run_id: str | None
    run_ip: str | None
    run_pid: int | None
    auto_retries: int
    create_time: datetime
    update_time: datetime
    start_time: datetime | None
    end_time: datetime | None
    elapsed_ms: int | None
    error: str = ""
    progress_done: int = 0
    progress_total: int = 0
    progress_note: str = ""
    # The earlier run whose outputs the task took instead of running, as "job X, component Y, version V".
    reused_from: str | None = None


@dataclass(frozen=True, slots=True)
class EngineRecord:
    engine_type: str
    engine_name: str
    total_cores: int
    remaining_cores: int
    nodes: int
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True)
class TableMeta:
    namespace: str
    name: str
    engine: str
    address: str
    partitions: int
    count: int | None
    schema: dict[str, Any]
    id_delimiter: str
    extend_sid: bool
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True)
class MetricKey:
    job_id: str
    component_name: str
    role: str
    party_id: int
    task_version: int
    metric_namespace: str
    metric_name: str


@dataclass(frozen=True, slots=True)
class MetricRecord:
    key: MetricKey
    task_id: str
    metric_type: str
    data: tuple[tuple[Any, Any], ...]
    meta: dict[str, Any]
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True, slots=True)
class ModelRecord:
    model_id: str
    model_version: str
    role: str
    party_id: int
    component_name: str
    storage: str
    checksum: str
    create_time: datetime


@dataclass(frozen=True, slots=True)
class NewModelVersion:
    """Where a version that has no job on this site came from, and its job's files."""

    source: str
    manifest_sha256: str
    job_type: str | None = None
    job_status: str | None = None
    dsl: dict[str, Any] | None = None
    runtime_conf: dict[str, Any] | None = None
    party_plan: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ModelVersionRecord:
    """What a site knows of a model version it did not train: where it came from and its job's files."""

    model_id: str
    model_version: str
    role: str
    party_id: int
    source: str
    job_type: str | None
    job_status: str | None
    dsl: dict[str, Any] | None
    runtime_conf: dict[str, Any] | None
    party_plan: dict[str, Any] | None
    manifest_sha256: str
    create_time: datetime
