"""What the job workflow needs of a plan: the DAG and the parties, without the parameters.

Parameters stay in each party's database (the plan is stored with the job) and are read by the task
activity, so workflow payloads stay small however large the job is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from accord.dsl_compiler.plan import JobPlan
from accord.identity import Party


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ComponentSpec(_Frozen):
    name: str
    module: str
    upstream: tuple[str, ...]
    parties: tuple[Party, ...]


class PartySpec(_Frozen):
    party: Party
    engine: str
    apply_cores: int


class JobSpec(_Frozen):
    job_id: str
    initiator: Party
    # In topological order.
    components: tuple[ComponentSpec, ...]
    parties: tuple[PartySpec, ...]
    task_parallelism: int
    timeout_s: int
    queue_timeout_s: int
    status_collect: Literal["PUSH", "PULL"]
    auto_retries: int
    auto_retry_delay_s: int
    # Finished components of earlier jobs are reused unless the conf turns that off (job_parameters
    # .common.reuse: false, or per component {"<name>": false}).
    reuse: bool = True
    no_reuse: tuple[str, ...] = ()

    def may_reuse(self, name: str) -> bool:
        return self.reuse and name not in self.no_reuse

    def component(self, name: str) -> ComponentSpec:
        for cpn in self.components:
            if cpn.name == name:
                return cpn
        raise KeyError(name)

    def downstream_closure(self, name: str) -> list[str]:
        """``name`` and every component that depends on it, in topological order."""
        reached = {name}
        for cpn in self.components:
            if reached & set(cpn.upstream):
                reached.add(cpn.name)
        return [cpn.name for cpn in self.components if cpn.name in reached]


def job_spec(job_id: str, plan: JobPlan, *, queue_timeout_s: int) -> JobSpec:
    parties = {(p.role, p.party_id): p for p in plan.parties}
    job = parties[(plan.initiator.role, plan.initiator.party_id)].job_parameters
    return JobSpec(
        job_id=job_id,
        initiator=Party(role=plan.initiator.role, party_id=plan.initiator.party_id),
        components=tuple(
            ComponentSpec(
                name=cpn.name,
                module=cpn.module,
                upstream=cpn.upstream,
                parties=tuple(
                    Party(role=p.role, party_id=p.party_id) for p in plan.parties if cpn.name in p.components
                ),
            )
            for cpn in plan.components
        ),
        parties=tuple(
            PartySpec(
                party=Party(role=p.role, party_id=p.party_id),
                engine=p.job_parameters.computing_engine,
                apply_cores=p.resources.apply_cores,
            )
            for p in plan.parties
        ),
        task_parallelism=job.task_parallelism,
        timeout_s=job.timeout,
        queue_timeout_s=queue_timeout_s,
        status_collect=job.federated_status_collect_type,
        auto_retries=job.auto_retries,
        auto_retry_delay_s=job.auto_retry_delay,
        reuse=job.reuse,
        no_reuse=job.no_reuse,
    )
