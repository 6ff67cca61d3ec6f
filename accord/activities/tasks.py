"""Activities of a party workflow: run a component, and record and report its status.

The task activity reports its own start and outcome, so a finished task reaches the initiator
without another round through the party workflow; the workflow reports only what the activity
cannot: a stop, or a worker lost for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from accord.activities.edge import coded_errors
from accord.activities.federation import command_request_id
from accord.activities.reuse import TaskReuse
from accord.activities.services import (
    FederatedExchange,
    ProgressRecorder,
    RepositoryMetrics,
    SiteTables,
    StoredModels,
)
from accord.components import ComponentRegistry, TaskCancelled, TaskContext
from accord.components.sdk import layout
from accord.components.sdk.services import EarlierJobs, EngineSource, TaskServices
from accord.contracts import COMPONENT_FAILURE, RUN_LOST, ReportTask, RunTask
from accord.dsl_compiler.plan import JobPlan
from accord.errors import AccordError, RecordNotFound, StatusTransitionError, TableNotGranted
from accord.federation.client import FederationClient
from accord.federation.mailbox import Mailbox, TransferKey
from accord.identity import TaskReport
from accord.model_store import ModelStore
from accord.persistence import (
    JobRepository,
    MetricRepository,
    NewTask,
    TableGrantRepository,
    TaskKey,
    TaskRepository,
)
from accord.site.joblog import TASK_ERRORS, JobLog, TaskLogRouter
from accord.site.reuse import ReuseService
from accord.status import TaskStatus
from accord.storage import TableStore

log = logging.getLogger(__name__)
# The lines a task writes about itself, into its own log (and this process's).
task_log = logging.getLogger("accord.component.task")

HEARTBEAT_EVERY_S = 1.0
# A component that fails is not retried by Temporal (COMPONENT_FAILURE): the job decides
# (auto_retries, new version). A run lost part-way (RUN_LOST: its worker died or stopped heartbeating)
# cannot be picked up by the parties of a federated task: the values it exchanged wait in the
# mailboxes under the same task version, made with keys that died with it. The job runs the task
# again under a new version.
_PLAN_CACHE_SIZE = 64
# An error travels in task reports, signals and the job workflow's state, whose payloads Temporal caps
# at 2 MiB: a component's exception message can be any size, so what travels is capped (the task's
# ERROR.log has it whole).
MAX_ERROR_BYTES = 4096


def capped_error(text: str, where: str = "") -> str:
    """``text`` cut to :data:`MAX_ERROR_BYTES` of UTF-8, saying how much was cut and where the rest is."""
    data = text.encode("utf-8", errors="replace")
    if len(data) <= MAX_ERROR_BYTES:
        return text
    tail = f" [... cut: {len(data)} bytes in all; the whole text is in {where or 'the task log'}]"
    keep = MAX_ERROR_BYTES - len(tail.encode("utf-8"))
    return data[:keep].decode("utf-8", errors="ignore") + tail


async def _heartbeating(work: Awaitable[None]) -> None:
    """Await ``work``, heartbeating meanwhile so the task is seen alive however long it takes."""
    future = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({future}, timeout=HEARTBEAT_EVERY_S)
        if done:
            return future.result()
        activity.heartbeat()


class Runnable(Protocol):
    """A component, or an adoption of an earlier run's outputs in its place."""

    def run(self, ctx: TaskContext) -> Any: ...


@dataclass(frozen=True)
class ServiceParts:
    """The worker's shares of :class:`TaskServices`; the sender is bound per task to the running loop."""

    tables: TableStore
    mailbox: Mailbox
    metrics: MetricRepository
    models: ModelStore
    transfer_timeout_s: float
    # Cluster mode: the site's parties, and the grants that let other parties' jobs read its tables.
    local_party_ids: tuple[int, ...] = ()
    grants: TableGrantRepository | None = None
    # Block-table engines for components that compute on them (accord.activities.services.SiteEngines).
    engines: EngineSource | None = None
    # The site's earlier jobs for ModelLoader / CacheLoader (accord.activities.earlier.SiteEarlierJobs).
    earlier: EarlierJobs | None = None


def check_table_grant(parts: ServiceParts, task: RunTask, parameters: Mapping[str, Any]) -> None:
    """Refuse a task reading one of this site's tables for a job another party initiated, ungranted.

    The table is the one a Reader (or any component taking ``table: {namespace, name}``) names. In
    standalone, or for a job one of this site's own parties initiated, there is nothing to check.
    """
    table = parameters.get("table")
    initiator = task.initiator.party_id
    if parts.grants is None or not parts.local_party_ids or initiator in parts.local_party_ids:
        return
    if not isinstance(table, Mapping):
        return
    namespace, name = table.get("namespace"), table.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str):
        return
    if parts.grants.allows(namespace, name, initiator):
        return
    log.warning(
        "refused job %s of %s %s the table %s.%s on %s: not granted",
        task.job_id,
        task.initiator.role,
        initiator,
        namespace,
        name,
        task.party,
    )
    raise TableNotGranted(
        f"job {task.job_id} was initiated by {task.initiator.role} {initiator}, and table "
        f"{namespace}.{name} of {task.party.role} {task.party.party_id} is not granted to party {initiator}",
        hint=f"if party {initiator} may read it, its owner grants it on the site of party "
        f"{task.party.party_id}: `accord table grant -n {namespace} -t {name} --party {initiator}`",
    )


class TaskActivities:
    def __init__(
        self,
        *,
        home: Path,
        jobs: JobRepository,
        tasks: TaskRepository,
        registry: ComponentRegistry,
        client: FederationClient,
        services: ServiceParts | None = None,
        max_components: int = 64,
        reuse: ReuseService | None = None,
    ) -> None:
        self._home = home
        self._reuse = TaskReuse(reuse)
        self._logs = JobLog(home)
        self._router = TaskLogRouter.install()
        self._parts = services
        self._components = ThreadPoolExecutor(max_workers=max_components, thread_name_prefix="component")
        self._jobs = jobs
        self._tasks = tasks
        self._registry = registry
        self._client = client
        # A plan changes only between runs of a job (a parameter update before a rerun), and a rerun
        # runs new task versions: per version it is parsed once, where once per task would dominate
        # short tasks.
        self._plans: OrderedDict[tuple[str, str, int, int], JobPlan] = OrderedDict()

    async def _plan(self, task: RunTask) -> JobPlan:
        key = (task.job_id, task.party.role, task.party.party_id, task.task_version)
        plan = self._plans.get(key)
        if plan is None:
            record = await asyncio.to_thread(self._jobs.get, *key[:3])
            plan = JobPlan.model_validate(record.plan)
            self._plans[key] = plan
            if len(self._plans) > _PLAN_CACHE_SIZE:
                self._plans.popitem(last=False)
        return plan

    def _services(self, loop: asyncio.AbstractEventLoop) -> TaskServices | None:
        parts = self._parts
        if parts is None:
            return None
        client = self._client

        def send(key: TransferKey, data: bytes, request_id: str) -> Future[None]:
            # Components run in threads; the federation client lives on the worker's event loop.
            return asyncio.run_coroutine_threadsafe(client.push_value(key, data, request_id=request_id), loop)

        return TaskServices(
            tables=SiteTables(parts.tables),
            exchange=FederatedExchange(parts.mailbox, send),
            metrics=RepositoryMetrics(parts.metrics),
            models=StoredModels(parts.models),
            transfer_timeout_s=parts.transfer_timeout_s,
            engines=parts.engines,
            earlier=parts.earlier,
        )

    @activity.defn(name="run_task")
    async def run_task(self, task: RunTask) -> None:
        attempt = activity.info().attempt
        if attempt > 1:
            if await self._succeeded(task):
                # The run ended well but Temporal did not hear of it (it was down): just say so again.
                await _heartbeating(self._report(task, TaskStatus.SUCCESS))
                return
            raise ApplicationError(
                f"the run of {task.component} (task version {task.task_version}) on {task.party} was cut off "
                f"(attempt {attempt - 1} ended without an outcome: its worker died or stopped heartbeating)",
                type=RUN_LOST,
                non_retryable=True,
            )
        # "running" is recorded here only: the initiator counts a started task as running already,
        # and one report fewer per party keeps a stage short.
        started = asyncio.ensure_future(self._report(task, TaskStatus.RUNNING, push=False))
        plan = await self._plan(task)
        module = plan.component(task.component).module
        ctx = TaskContext(
            job_id=task.job_id,
            party=task.party,
            component=task.component,
            module=module,
            task_version=task.task_version,
            parameters=plan.party(task.party.role, task.party.party_id).component_parameters.get(
                task.component, {}
            ),
            work_dir=layout.task_dir(
                layout.party_dir(self._home, task.job_id, task.party.role, task.party.party_id),
                task.component,
                task.task_version,
            ),
        )
        ctx.work_dir.mkdir(parents=True, exist_ok=True)
        ctx.plan = plan
        ctx.services = self._services(asyncio.get_running_loop())
        key = TaskKey(task.job_id, task.component, task.task_version, task.party.role, task.party.party_id)
        recorder = ProgressRecorder(self._tasks, key)
        ctx.on_progress = recorder
        component: Runnable
        if task.reuse_from is None:
            component = self._registry.create(module)
            fingerprint = (
                await self._reuse.fingerprint(plan, key) if getattr(component, "reusable", True) else None
            )
        else:
            component = self._reuse.adoption(plan, key, task.reuse_from)
            # The adoption marks the task's row, which the "running" record may be creating.
            await started
        # A thread of our own per component: components of one job wait on each other over the data
        # plane, so queueing them behind each other in a small shared pool could deadlock a job.
        running = asyncio.get_running_loop().run_in_executor(
            self._components, self._run, component, ctx, task, recorder
        )
        try:
            await _heartbeating(running)
        except asyncio.CancelledError:
            # The task was stopped: tell the component and give it a moment to wind down.
            ctx.cancelled.set()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(running), timeout=5)
            raise
        except TaskCancelled:
            raise asyncio.CancelledError() from None
        except Exception as exc:
            # The traceback is in the task's own log (and this process's), written by its thread.
            errors = self._logs.task_dir(task.job_id, task.party.role, task.party.party_id, task.component)
            log.error(
                "component %s of job %s failed on %s: %s (traceback in %s)",
                task.component,
                task.job_id,
                task.party,
                type(exc).__name__,
                errors / TASK_ERRORS,
            )
            code = f" ({exc.code})" if isinstance(exc, AccordError) else ""
            where = (
                f"{task.party.role}/{task.party.party_id}/{task.component}/{TASK_ERRORS} of `accord job log`"
            )
            message = capped_error(f"{module} failed: {type(exc).__name__}{code}: {exc}", where)
            await _heartbeating(self._report(task, TaskStatus.FAILED, message, after=started))
            raise ApplicationError(message, type=COMPONENT_FAILURE, non_retryable=True) from exc
        if task.reuse_from is None:
            await _heartbeating(self._reuse.record(plan, key, fingerprint))
        # A slow report (the initiator's site briefly away) must not look like a dead worker, or
        # Temporal would run the finished component again.
        await _heartbeating(self._report(task, TaskStatus.SUCCESS, after=started))

    def _run(self, component: Runnable, ctx: TaskContext, task: RunTask, recorder: ProgressRecorder) -> None:
        folder = self._logs.task_dir(task.job_id, task.party.role, task.party.party_id, task.component)
        # Everything this thread logs while the component runs goes to the task's own log too.
        with self._router.capture(folder):
            what = (
                f"{task.component} ({ctx.module}) v{task.task_version} of job {task.job_id} on {task.party}"
            )
            task_log.info("task %s started", what)
            try:
                # Checked in the component's thread, so a refusal fails the task like the component failing.
                if self._parts is not None:
                    check_table_grant(self._parts, task, ctx.parameters)
                component.run(ctx)
            except TaskCancelled:
                task_log.info("task %s stopped", what)
                raise
            except Exception:
                task_log.exception("task %s failed", what)
                raise
            finally:
                recorder.flush()
            task_log.info("task %s succeeded", what)

    async def _succeeded(self, task: RunTask) -> bool:
        """Whether this party's row of the task already records its success."""
        key = TaskKey(task.job_id, task.component, task.task_version, task.party.role, task.party.party_id)
        try:
            record = await asyncio.to_thread(self._tasks.get, key)
        except RecordNotFound:
            return False
        return record.status == TaskStatus.SUCCESS

    async def _report(
        self,
        task: RunTask,
        status: TaskStatus,
        error: str = "",
        *,
        push: bool = True,
        after: asyncio.Future[None] | None = None,
    ) -> None:
        """Record ``status`` (once ``after``, the earlier record, is done) and push it meanwhile."""
        report = TaskReport(
            job_id=task.job_id,
            party=task.party,
            component=task.component,
            task_version=task.task_version,
            status=status,
            error=error,
        )
        request = ReportTask(report=report, initiator=task.initiator, push=task.push and push)
        await self._deliver(request, status.value, after=after)

    @activity.defn(name="report_task")
    @coded_errors
    async def report_task(self, request: ReportTask) -> None:
        await self._deliver(request, "")

    async def _deliver(
        self, request: ReportTask, suffix: str, after: asyncio.Future[None] | None = None
    ) -> None:
        # Recorded before the initiator hears of it: once the job has ended, every party's task rows
        # already say how its tasks ended.
        if after is not None:
            await after
        report = request.report
        key = TaskKey(
            report.job_id, report.component, report.task_version, report.party.role, report.party.party_id
        )
        await asyncio.to_thread(self._record, key, report.status, capped_error(report.error))
        await self._push(request, suffix)

    async def _push(self, request: ReportTask, suffix: str) -> None:
        report = request.report
        if request.push:
            await self._client.report_status(
                report,
                destination=request.initiator,
                request_id=command_request_id(request.initiator, f"/{suffix}"),
            )

    def _record(self, key: TaskKey, status: TaskStatus, error: str = "") -> None:
        try:
            try:
                self._tasks.update_status(key, status, with_party_status=True)
            except RecordNotFound:
                # The start command writes the row concurrently with starting us; we may be first.
                self._tasks.create(NewTask(key=key))
                self._tasks.update_status(key, status, with_party_status=True)
        except StatusTransitionError:
            # Reports can overtake each other (a stop racing a success); the first end wins.
            log.info("ignored %s for %s: not a legal transition", status, key)
            return
        if error:
            self._tasks.set_error(key, error)
