"""Job operations behind the HTTP API: submit, query, list, stop, rerun, tasks and logs."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from accord.components import ComponentRegistry
from accord.dsl_compiler import CompileOptions, JobDefaults, JobPlan, compile_job, parse_conf, parse_dsl
from accord.errors import (
    ComponentNotImplemented,
    ConnectionFailure,
    EngineUnavailable,
    JobStateError,
    PartyNotHosted,
    RecordNotFound,
)
from accord.ids import new_job_id
from accord.persistence import JobRecord, JobRepository, NewJob, TaskRecord, TaskRepository
from accord.settings import Settings
from accord.site.deploy import ModelDeployment
from accord.site.joblog import JobLog
from accord.status import JobStatus
from accord.workflows.dag import ComponentRun, DagState, combined_status
from accord.workflows.job import JobInput, JobResult, JobView, JobWorkflow, RerunRequest
from accord.workflows.spec import job_spec

# Engines this site computes with itself; FATE's other engines need clusters it does not run.
SUPPORTED_COMPUTING = frozenset({"STANDALONE", "EGGROLL"})
SUPPORTED_FEDERATION = frozenset({"STANDALONE", "EGGROLL"})


class ModelInfo(BaseModel):
    model_id: str
    model_version: str


class SubmitResult(BaseModel):
    job_id: str
    model_info: ModelInfo
    board_url: str
    logs_directory: str


class JobService:
    def __init__(
        self,
        settings: Settings,
        temporal: Client,
        jobs: JobRepository,
        tasks: TaskRepository,
        registry: ComponentRegistry,
        *,
        history_limit: int = 8000,
        deployment: ModelDeployment | None = None,
    ) -> None:
        self._settings = settings
        self._deployment = deployment
        self._temporal = temporal
        self._jobs = jobs
        self._tasks = tasks
        self._registry = registry
        self._history_limit = history_limit
        self._log = JobLog(settings.home)

    def compile(self, dsl: dict[str, Any], conf: dict[str, Any], job_id: str) -> JobPlan:
        settings = self._settings
        options = CompileOptions(
            job_id=job_id,
            defaults=JobDefaults(computing_nodes=settings.computing_nodes),
            extra_modules=self._registry.extra_specs(),
        )
        plan = compile_job(parse_dsl(dsl), parse_conf(conf), options)
        missing = sorted({c.module for c in plan.components} - self._registry.modules())
        if missing:
            raise ComponentNotImplemented(
                f"no implementation of module(s) {', '.join(missing)} is installed on this site",
                hint="install the components, or remove them from the DSL",
                modules=missing,
            )
        for party in plan.parties:
            params = party.job_parameters
            if params.computing_engine not in SUPPORTED_COMPUTING or (
                params.federation_engine not in SUPPORTED_FEDERATION
            ):
                raise EngineUnavailable(
                    f"{party.role} {party.party_id} asks for computing {params.computing_engine} and "
                    f"federation {params.federation_engine}, which this site does not run",
                    hint="use backend 0 (EGGROLL or STANDALONE); SPARK, RABBITMQ and PULSAR are not run here",
                )
        if not settings.hosts_party(plan.initiator.party_id):
            raise PartyNotHosted(
                f"the initiator {plan.initiator.role} {plan.initiator.party_id} is not hosted by this site",
                hint="submit the job to the initiator's site",
            )
        # As FATE-Flow checks component parameters at submit: a job refused now leaves nothing behind,
        # where one refused by its task fails after its upstream components have run.
        for party in plan.parties:
            for name in party.components:
                self._registry.check_parameters(
                    plan.component(name).module, party.component_parameters.get(name, {}), component=name
                )
        return plan

    async def submit(self, dsl: dict[str, Any], conf: dict[str, Any]) -> SubmitResult:
        job_id = new_job_id()
        plan = self.compile(dsl, conf, job_id)
        if plan.job_type == "predict" and self._deployment is not None:
            await asyncio.to_thread(self._deployment.check_predict, plan)
        init = plan.initiator
        await asyncio.to_thread(
            self._jobs.create,
            NewJob(
                job_id=job_id,
                role=init.role,
                party_id=init.party_id,
                initiator_role=init.role,
                initiator_party_id=init.party_id,
                dsl=dsl,
                runtime_conf=conf,
                is_initiator=True,
                plan=plan.model_dump(mode="json"),
                model_id=plan.model_id,
                model_version=plan.model_version,
            ),
        )
        spec = job_spec(job_id, plan, queue_timeout_s=self._settings.queue_timeout_s)
        try:
            await self._temporal.start_workflow(
                JobWorkflow.run,
                JobInput(
                    spec=spec,
                    max_concurrent_jobs=self._settings.max_concurrent_jobs,
                    history_limit=self._history_limit,
                ),
                id=job_id,
                task_queue=self._settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except RPCError as error:
            # Without its workflow the job would wait forever: record that it never started.
            reason = f"the scheduler could not be reached: {error.message}"
            await asyncio.to_thread(
                self._jobs.update_status, job_id, init.role, init.party_id, JobStatus.FAILED, reason=reason
            )
            raise ConnectionFailure(
                f"job {job_id} was not started: Temporal at {self._settings.temporal_address} did not answer",
                hint="start the site with `accord up`, then submit again",
            ) from None
        self._log.write(job_id, init.role, init.party_id, "submitted")
        return SubmitResult(
            job_id=job_id,
            model_info=ModelInfo(model_id=plan.model_id, model_version=plan.model_version or job_id),
            board_url=self.board_url(job_id),
            logs_directory=str(self._log.directory(job_id)),
        )

    def board_url(self, job_id: str) -> str:
        ui = self._settings.temporal_ui_address
        return f"{ui}/namespaces/{self._settings.temporal_namespace}/workflows/{job_id}"

    def _handle(self, job_id: str) -> WorkflowHandle[JobWorkflow, JobResult]:
        return self._temporal.get_workflow_handle_for(JobWorkflow.run, job_id)

    async def query(
        self, job_id: str, role: str | None = None, party_id: int | None = None
    ) -> list[JobRecord]:
        records = await asyncio.to_thread(self._jobs.parties, job_id, role=role, party_id=party_id)
        if not records:
            raise RecordNotFound(
                f"no job {job_id} on this site", hint="check the job id with `accord job list`"
            )
        return records

    async def live_view(self, job_id: str) -> JobView | None:
        """The job workflow's own view while it runs; None once it has ended."""
        handle = self._handle(job_id)
        try:
            description = await handle.describe()
            if description.status != WorkflowExecutionStatus.RUNNING:
                return None
            return await handle.query(JobWorkflow.view)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    async def list_jobs(self, limit: int = 20, status: str | None = None) -> list[JobRecord]:
        wanted = JobStatus(status) if status else None
        return await asyncio.to_thread(self._jobs.list_jobs, status=wanted, limit=limit)

    async def stop(self, job_id: str) -> None:
        await self.query(job_id)
        if await self.live_view(job_id) is None:
            raise JobStateError(
                f"job {job_id} is not running", hint="only waiting or running jobs can be stopped"
            )
        await self._handle(job_id).signal(JobWorkflow.stop)

    async def rerun(self, job_id: str, component: str | None = None, force: bool = False) -> None:
        records = await self.query(job_id)
        initiator = next((r for r in records if r.is_initiator), None)
        if initiator is None or initiator.plan is None:
            raise JobStateError(
                f"job {job_id} was not initiated on this site", hint="rerun it on its initiator"
            )
        if await self.live_view(job_id) is not None:
            raise JobStateError(f"job {job_id} is still running", hint="stop it first, or wait for it to end")
        plan = JobPlan.model_validate(initiator.plan)
        if component is not None and component not in plan.order:
            raise RecordNotFound(
                f"job {job_id} has no component {component!r}", hint=f"components: {', '.join(plan.order)}"
            )
        previous = await self._previous_state(job_id, plan)
        spec = job_spec(job_id, plan, queue_timeout_s=self._settings.queue_timeout_s)
        await self._temporal.start_workflow(
            JobWorkflow.run,
            JobInput(
                spec=spec,
                max_concurrent_jobs=self._settings.max_concurrent_jobs,
                rerun=RerunRequest(previous=previous, component=component, force=force),
                history_limit=self._history_limit,
            ),
            id=job_id,
            task_queue=self._settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
        self._log.write(
            job_id, initiator.role, initiator.party_id, f"rerun from {component or 'failed tasks'}"
        )

    async def _previous_state(self, job_id: str, plan: JobPlan) -> DagState:
        """The DAG as the last run left it: its result, or the task rows if it ended abnormally."""
        try:
            return (await self._handle(job_id).result()).dag
        except (WorkflowFailureError, RPCError):
            # Terminated by an operator, or its history is gone: the read model still knows.
            records = await asyncio.to_thread(self._tasks.list_tasks, job_id)
            state = DagState()
            for name in plan.order:
                mine = [r for r in records if r.key.component_name == name]
                if not mine:
                    continue
                version = max(r.key.task_version for r in mine)
                statuses = [r.party_status for r in mine if r.key.task_version == version]
                state.components[name] = ComponentRun(version=version, status=combined_status(statuses))
            return state

    async def tasks(self, job_id: str, component: str | None = None) -> list[TaskRecord]:
        await self.query(job_id)
        return await asyncio.to_thread(self._tasks.list_tasks, job_id, component_name=component)

    async def wait(self, job_id: str) -> JobResult:
        return await self._handle(job_id).result()

    def log_archive(self, job_id: str) -> bytes:
        return self._log.archive(job_id)
