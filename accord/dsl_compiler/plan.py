"""The immutable job plan the compiler produces; workflows and the API read it, never the raw files."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from accord.identity import Party

InputKind = Literal["data", "model", "isometric_model", "cache"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunMode(StrEnum):
    """What a component does in this job: learn from its data, or apply a model it is given."""

    FIT = "fit"
    PREDICT = "predict"


class InputRef(_Frozen):
    kind: InputKind
    # For data inputs the slot (data, train_data, validate_data, test_data); otherwise the kind again.
    slot: str
    component: str
    output: str
    # True for "pipeline.<component>.model": a model of the deployed training job, not of this DSL.
    external: bool = False

    @property
    def reference(self) -> str:
        prefix = "pipeline." if self.external else ""
        return f"{prefix}{self.component}.{self.output}"


class ComponentPlan(_Frozen):
    name: str
    module: str
    module_as_written: str
    provider: str | None = None
    inputs: tuple[InputRef, ...] = ()
    data_outputs: tuple[str, ...] = ()
    model_outputs: tuple[str, ...] = ()
    cache_outputs: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()
    stage: int
    mode: RunMode
    roles: tuple[str, ...]


class JobParameters(_Frozen):
    job_type: Literal["train", "predict"]
    work_mode: int
    backend: int
    computing_engine: str
    storage_engine: str
    federation_engine: str
    federated_mode: Literal["SINGLE", "MULTIPLE"]
    task_cores: int
    task_parallelism: int
    computing_partitions: int
    federated_status_collect_type: Literal["PUSH", "PULL"]
    timeout: int
    auto_retries: int
    auto_retry_delay: int
    model_id: str | None = None
    model_version: str | None = None
    eggroll_run: dict[str, Any] = {}
    spark_run: dict[str, Any] = {}
    rabbitmq_run: dict[str, Any] = {}
    pulsar_run: dict[str, Any] = {}
    # Accord's own: reuse finished components of earlier jobs (all, or all but ``no_reuse``).
    reuse: bool = True
    no_reuse: tuple[str, ...] = ()
    # Parameters FATE accepts that the plan carries along untouched (engines_address, ...).
    extra: dict[str, Any] = {}


class PartyResources(_Frozen):
    task_nodes: int
    task_cores_per_node: int
    task_run_cores: int
    apply_cores: int


class PartyPlan(_Frozen):
    role: str
    index: int
    party_id: int
    job_parameters: JobParameters
    resources: PartyResources
    # Components this party runs, in the job's topological order.
    components: tuple[str, ...]
    component_parameters: dict[str, dict[str, Any]]


class JobPlan(_Frozen):
    dsl_version: int
    job_type: Literal["train", "predict"]
    initiator: Party
    roles: dict[str, tuple[int, ...]]
    components: tuple[ComponentPlan, ...]
    order: tuple[str, ...]
    stages: tuple[tuple[str, ...], ...]
    parties: tuple[PartyPlan, ...]
    model_id: str
    model_version: str | None = None
    warnings: tuple[str, ...] = ()

    def component(self, name: str) -> ComponentPlan:
        for cpn in self.components:
            if cpn.name == name:
                return cpn
        raise KeyError(name)

    def party(self, role: str, party_id: int) -> PartyPlan:
        for party in self.parties:
            if party.role == role and party.party_id == party_id:
                return party
        raise KeyError((role, party_id))

    @property
    def party_ids(self) -> tuple[int, ...]:
        """Every distinct party id of the job, in first-seen order (one id may hold several roles)."""
        seen: dict[int, None] = {}
        for ids in self.roles.values():
            for party_id in ids:
                seen.setdefault(party_id, None)
        return tuple(seen)
