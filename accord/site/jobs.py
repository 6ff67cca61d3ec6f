"""Job operations behind the HTTP API: submit, query, list, stop, rerun, tasks and logs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.service import RPCError, RPCStatusCode

from accord.components import ComponentRegistry
from accord.dsl_compiler import CompileOptions, JobDefaults, JobPlan, compile_job
from accord.dsl_compiler.jobparams import unused_engine_notes
from accord.errors import (
    ComponentNotImplemented,
    ConnectionFailure,
    EngineUnavailable,
    JobStateError,
    JobTooLarge,
    PartyNotHosted,
    RecordNotFound,
)
from accord.identity import new_job_id
from accord.persistence import JobRecord, JobRepository, NewJob, TaskRecord, TaskRepository
from accord.settings import Settings
from accord.site import parameters
from accord.site.deploy import ModelDeployment
from accord.site.joblog import JobLog
from accord.site.progress import party_progress
from accord.site.readers import check_reader_tables
from accord.status import JobStatus
from accord.storage import TableStore
from accord.workflows.dag import ComponentRun, DagState, combined_status
from accord.workflows.job import JobWorkflow
from accord.workflows.job_io import JobInput, JobResult, JobView, RerunRequest
from accord.workflows.spec import job_spec
from accord.workflows.visibility import ENDING_MEMO, FAILURE_TYPES, JobEnding

log = logging.getLogger(__name__)

# Computing engines this site runs: its own process pool, or the Spark master its settings name.
SUPPORTED_COMPUTING = frozenset({"STANDALONE", "EGGROLL", "SPARK"})
# Half of Temporal's 2 MB payload limit: the other half is for the state a running job carries when it
# continues as new (each component's status and error, pending reports).
MAX_SPEC_BYTES = 1 << 20


class ModelInfo(BaseModel):
    model_id: str
    model_version: str


class SubmitResult(BaseModel):
    job_id: str
    model_info: ModelInfo
    board_url: str
    logs_directory: str
    # The job's workflow in the Temporal web UI, next to the board.
    workflow_url: str = ""
    # What the conf asks for that the site accepts but does not use (RabbitMQ, Pulsar, HDFS).
    notes: list[str] = []


def engine_notes(plan: JobPlan) -> list[str]:
    """The job parameters the site accepts but does not use, each once, naming the parties they are of."""
    parties: dict[str, list[str]] = {}
    for party in plan.parties:
        for note in unused_engine_notes(party.job_parameters):
            parties.setdefault(note, []).append(f"{party.role} {party.party_id}")
    everyone = len(plan.parties)
    return [note if len(who) == everyone else f"{note} ({', '.join(who)})" for note, who in parties.items()]


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
        tables: TableStore | None = None,
    ) -> None:
        self._settings = settings
        self._deployment = deployment
        # Standalone: every party's tables are here, so a Reader naming a missing one is refused now.
        self._reader_tables = tables if not settings.local_party_ids else None
        self._temporal = temporal
        self._jobs = jobs
        self._tasks = tasks
        self._registry = registry
        self._history_limit = history_limit
        self._log = JobLog(settings.home)

    def compile(self, dsl: dict[str, Any], conf: dict[str, Any], job_id: str) -> JobPlan:
        settings = self._settings
        self._check_size(dsl)
        options = CompileOptions(
            job_id=job_id,
            defaults=JobDefaults(computing_nodes=settings.computing_nodes),
            extra_modules=self._registry.extra_specs(),
            max_depth=settings.max_json_depth,
        )
        # The raw documents, so the compiler checks their depth and text before it parses them.
        plan = compile_job(dsl, conf, options)
        missing = sorted({c.module for c in plan.components} - self._registry.modules())
        if missing:
            raise ComponentNotImplemented(
                f"no implementation of module(s) {', '.join(missing)} is installed on this site",
                hint="install the components, or remove them from the DSL",
                modules=missing,
            )
        self._check_engines(plan)
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
        if self._reader_tables is not None:
            check_reader_tables(plan, self._reader_tables, settings.hosts_party)
        return plan

    def _check_engines(self, plan: JobPlan) -> None:
        """Refuse a computing engine the site does not run, or SPARK on a site without Spark.

        Only the parties this site hosts are checked against its Spark: another site runs its own.
        """
        for party in plan.parties:
            params = party.job_parameters
            if params.computing_engine not in SUPPORTED_COMPUTING:
                raise EngineUnavailable(
                    f"{party.role} {party.party_id} asks for computing {params.computing_engine}, "
                    "which this site does not run",
                    hint="use backend 0 (EGGROLL or STANDALONE), or backend 1 or 2 (SPARK)",
                )
            if params.computing_engine != "SPARK" or not self._settings.hosts_party(party.party_id):
                continue
            # Imported here: the module imports pyspark only when a session starts.
            from accord.computing.spark import check_runtime, spark_conf

            check_runtime()
            # spark_run's keys are checked now, not when the first Spark task of the job starts.
            spark_conf(
                params.spark_run,
                master=self._settings.spark_master,
                app_name=plan.model_version or "accord",
                site_conf=self._settings.spark_conf,
            )

    def _store(self, job_id: str, plan: JobPlan, dsl: dict[str, Any], conf: dict[str, Any]) -> None:
        init = plan.initiator
        self._jobs.create(
            NewJob(
                job_id=job_id,
                role=init.role,
                party_id=init.party_id,
                initiator_role=init.role,
                initiator_party_id=init.party_id,
                dsl=dsl,
                runtime_conf=conf,
                is_initiator=True,
                # Dumping a large plan takes a while too: this runs in a thread, off the event loop.
                plan=plan.model_dump(mode="json"),
                model_id=plan.model_id,
                model_version=plan.model_version,
            )
        )

    def _check_size(self, dsl: dict[str, Any]) -> None:
        """Refuse, before compiling it, a job larger than its workflow can carry.

        The job workflow's state (DAG, task reports) grows with the components; past the limit it no
        longer fits Temporal's 2 MB payload when the workflow continues as new, and the job wedges.
        """
        components = dsl.get("components")
        count = len(components) if isinstance(components, dict) else 0
        limit = self._settings.max_job_components
        if count > limit:
            raise JobTooLarge(
                f"dsl: the job has {count} components, more than this site's limit of {limit}",
                hint="split the job, or raise the site's max_job_components setting "
                "(ACCORD_MAX_JOB_COMPONENTS)",
                components=count,
                limit=limit,
            )

    def _check_payload(self, job_input: JobInput) -> None:
        """Refuse a job whose workflow input would not leave room for its state in Temporal's payloads.

        The DAG's edges grow with the square of the components in the worst case, which the component
        limit alone does not bound.
        """
        payload = self._temporal.data_converter.payload_converter.to_payloads([job_input])[0]
        if len(payload.data) > MAX_SPEC_BYTES:
            raise JobTooLarge(
                f"dsl: the job's graph takes {len(payload.data)} bytes in its workflow, more than "
                f"{MAX_SPEC_BYTES}",
                hint="use fewer components or fewer inputs per component, or shorter component names",
                bytes=len(payload.data),
                limit=MAX_SPEC_BYTES,
            )

    async def submit(self, dsl: dict[str, Any], conf: dict[str, Any]) -> SubmitResult:
        job_id = new_job_id()
        if self._deployment is not None:
            # As FATE, a predict job runs with the training conf's parameters beneath its own.
            merged = await asyncio.to_thread(self._deployment.with_training_parameters, dsl, conf)
            conf = conf if merged is None else merged
        # Compiling a large job takes seconds: off the event loop the API and federation share.
        plan = await asyncio.to_thread(self.compile, dsl, conf, job_id)
        if plan.job_type == "predict" and self._deployment is not None:
            await asyncio.to_thread(self._deployment.check_predict, plan)
        init = plan.initiator
        spec = job_spec(job_id, plan, queue_timeout_s=self._settings.queue_timeout_s)
        job_input = JobInput(
            spec=spec,
            max_concurrent_jobs=self._settings.max_concurrent_jobs,
            history_limit=self._history_limit,
        )
        self._check_payload(job_input)
        await asyncio.to_thread(self._store, job_id, plan, dsl, conf)
        try:
            await self._temporal.start_workflow(
                JobWorkflow.run,
                job_input,
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
        notes = engine_notes(plan)
        for note in notes:
            self._log.write(job_id, init.role, init.party_id, f"note: {note}")
        return SubmitResult(
            job_id=job_id,
            model_info=ModelInfo(model_id=plan.model_id, model_version=plan.model_version or job_id),
            board_url=self.board_url(job_id),
            logs_directory=str(self._log.directory(job_id)),
            workflow_url=self.workflow_url(job_id),
            notes=notes,
        )

    def board_url(self, job_id: str) -> str:
        """The job on this site's board (accord.board), with the local credential on a standalone site."""
        from accord.board.links import board_link

        return board_link(self._settings, job_id)

    def workflow_url(self, job_id: str) -> str:
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

    async def reused(self, job_id: str) -> dict[tuple[str, int], dict[str, str]]:
        """Per party of the job on this site: component → the earlier run its newest task reused."""
        tasks = await asyncio.to_thread(self._tasks.list_tasks, job_id)
        newest: dict[tuple[str, int, str], TaskRecord] = {}
        for task in tasks:
            key = (task.key.role, task.key.party_id, task.key.component_name)
            if key not in newest or task.key.task_version > newest[key].key.task_version:
                newest[key] = task
        found: dict[tuple[str, int], dict[str, str]] = {}
        for (role, party_id, component), task in newest.items():
            if task.reused_from:
                found.setdefault((role, party_id), {})[component] = task.reused_from
        return found

    async def progress(self, records: list[JobRecord]) -> dict[tuple[str, str, int], int]:
        """Each party row's progress, (job id, role, party id) → percent, from the jobs' task rows."""
        return await asyncio.to_thread(self._progress, records)

    def _progress(self, records: list[JobRecord]) -> dict[tuple[str, str, int], int]:
        by_job: dict[str, list[JobRecord]] = {}
        for record in records:
            by_job.setdefault(record.job_id, []).append(record)
        found: dict[tuple[str, str, int], int] = {}
        for job_id, rows in by_job.items():
            # A job that succeeded everywhere is at 100 without reading its tasks.
            ended_well = all(r.status == JobStatus.SUCCESS for r in rows)
            tasks = [] if ended_well else self._tasks.list_tasks(job_id)
            for row in rows:
                found[(job_id, row.role, row.party_id)] = party_progress(row, tasks)
        return found

    async def live_view(self, job_id: str) -> JobView | None:
        """The job workflow's own view while it runs; None once it has ended."""
        handle = self._handle(job_id)
        try:
            description = await handle.describe()
            if description.status != WorkflowExecutionStatus.RUNNING:
                return None
            try:
                return await handle.query(JobWorkflow.view)
            except WorkflowQueryFailedError as error:
                # The workflow runs but could not answer now (e.g. its worker too busy to replay within
                # the SDK's deadlock timeout): it is running, its details are the read model's.
                log.warning("job %s: no live view: %s", job_id, error)
                return JobView(status=JobStatus.RUNNING, reason="", components={})
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
        # A cancel request, which the workflow turns into a stop: it then closes as Canceled in the UI.
        await self._handle(job_id).cancel()

    async def pause(self, job_id: str) -> None:
        """Ask a waiting or running job to pause: its running tasks finish and no new one starts."""
        view = await self._open_on_initiator(job_id, "paused")
        if view.pause_requested:
            raise JobStateError(
                f"job {job_id} is already {'paused' if view.status == JobStatus.PAUSED else 'pausing'}",
                hint=f"resume it with `accord job resume -j {job_id}`",
            )
        await self._handle(job_id).signal(JobWorkflow.pause)

    async def resume(self, job_id: str) -> None:
        """Carry a paused (or pausing) job on: it queues again, reserves its cores and goes on."""
        view = await self._open_on_initiator(job_id, "resumed")
        if not view.pause_requested:
            raise JobStateError(
                f"job {job_id} is not paused ({view.status.value})",
                hint=f"pause it first with `accord job pause -j {job_id}`",
            )
        await self._handle(job_id).signal(JobWorkflow.resume)

    async def _open_on_initiator(self, job_id: str, doing: str) -> JobView:
        """The live view of a job this site initiated and that has not ended."""
        records = await self.query(job_id)
        if not any(r.is_initiator for r in records):
            # The job's workflow runs on the initiator's site; a party speaks only for itself.
            raise JobStateError(
                f"job {job_id} was not initiated on this site",
                hint=f"it can be {doing} on its initiator's site",
            )
        view = await self.live_view(job_id)
        if view is None:
            raise JobStateError(
                f"job {job_id} has ended", hint=f"only a waiting, running or paused job can be {doing}"
            )
        return view

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

    async def update_parameters(
        self,
        job_id: str,
        job_parameters: dict[str, Any] | None,
        component_parameters: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Merge an update into an ended job's conf, checked as at submit; a rerun then runs it."""
        records = await self.query(job_id)
        initiator = next((r for r in records if r.is_initiator), None)
        if initiator is None or initiator.plan is None:
            raise JobStateError(
                f"job {job_id} was not initiated on this site", hint="update it on its initiator's site"
            )
        if await self.live_view(job_id) is not None:
            raise JobStateError(
                f"job {job_id} is still running", hint="stop it or wait for it to end, then update and rerun"
            )
        plan = JobPlan.model_validate(initiator.plan)
        elsewhere = [p for p in plan.parties if not self._settings.hosts_party(p.party_id)]
        if elsewhere:
            # Each site keeps its own copy of the conf; changing one copy would split the job in two.
            raise PartyNotHosted(
                f"job {job_id} has parties on other sites ({elsewhere[0].role} {elsewhere[0].party_id})",
                hint="submit a new job with the updated conf: parameters of a cluster job are fixed",
            )
        conf = parameters.updated_conf(initiator.runtime_conf, job_parameters, component_parameters)
        compiled = await asyncio.to_thread(self.compile, initiator.dsl, conf, job_id)
        if compiled.job_type == "predict" and self._deployment is not None:
            await asyncio.to_thread(self._deployment.check_predict, compiled)
        stored = compiled.model_dump(mode="json")
        for record in records:
            await asyncio.to_thread(self._jobs.set_conf, job_id, record.role, record.party_id, conf, stored)
        self._log.write(job_id, initiator.role, initiator.party_id, "parameters updated")
        return parameters.updated_parts(conf)

    async def _previous_state(self, job_id: str, plan: JobPlan) -> DagState:
        """The DAG as the last run left it: its result, or the task rows if it ended abnormally."""
        try:
            return (await self.wait(job_id)).dag
        except (WorkflowFailureError, RPCError):
            # Terminated by an operator, or its history is gone: the read model still knows.
            return await asyncio.to_thread(self._recorded_state, job_id, plan.order)

    def _recorded_state(self, job_id: str, order: tuple[str, ...] | None = None) -> DagState:
        """The DAG as the task rows of this site record it: each component's latest version."""
        records = self._tasks.list_tasks(job_id)
        state = DagState()
        for name in order if order is not None else dict.fromkeys(r.key.component_name for r in records):
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
        """The job's result however its workflow closed.

        Completed is a success; a failed, timed-out or stopped job fails its workflow with the FATE
        status as the failure's type and the result as its details; a job stopped by a cancel request
        closes canceled, its status and reason in the workflow's memo. Any other failure (terminated,
        or a workflow that failed on its own) raises WorkflowFailureError.
        """
        handle = self._handle(job_id)
        try:
            return await handle.result()
        except WorkflowFailureError as failure:
            cause = failure.cause
            if isinstance(cause, ApplicationError) and cause.type in FAILURE_TYPES and cause.details:
                return JobResult.model_validate(cause.details[0])
            if isinstance(cause, CancelledError):
                description = await handle.describe()
                ending = await description.memo_value(ENDING_MEMO, None, type_hint=JobEnding)
                if ending is not None:
                    dag = await asyncio.to_thread(self._recorded_state, job_id)
                    return JobResult(status=ending.status, reason=ending.reason, dag=dag)
            raise

    def log_archive(self, job_id: str) -> bytes:
        return self._log.archive(job_id)
