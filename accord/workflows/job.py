"""The job workflow on the initiator's site (workflow id = job id).

It creates the job on every party, waits its turn in the site's queue, reserves resources on every
party as a saga, walks the DAG with :class:`~accord.workflows.dag.Dag`, and on every way out stops
what still runs, returns the resources and tells every party how the job ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from accord.activities.federation import FederationActivities
    from accord.activities.messages import (
        Enqueue,
        JobParties,
        JobStatusFanout,
        ResourceClaim,
        ResourceClaims,
        StatusQuery,
        TaskFanout,
    )
    from accord.activities.queue import QueueActivities
    from accord.federation.commands import Party, TaskReport
    from accord.status import JobStatus, TaskStatus
    from accord.workflows.dag import Dag, DagState
    from accord.workflows.queue import queue_workflow_id
    from accord.workflows.spec import JobSpec

COMMAND_TIMEOUT = timedelta(seconds=30)
RESOURCE_RETRY_MAX_S = 30.0


class RerunRequest(BaseModel):
    previous: DagState
    component: str | None = None
    force: bool = False


class Resume(BaseModel):
    """What a continued-as-new run carries over."""

    dag: DagState
    started_at: datetime
    held: list[Party]
    reports: list[TaskReport] = Field(default_factory=list)
    stop_requested: bool = False


class JobInput(BaseModel):
    spec: JobSpec
    max_concurrent_jobs: int = 5
    rerun: RerunRequest | None = None
    resume: Resume | None = None
    # Events after which the run continues as new, keeping the history far from Temporal's limits.
    history_limit: int = 8000
    pull_interval_ms: int = 200


class JobResult(BaseModel):
    status: JobStatus
    reason: str = ""
    dag: DagState


class JobView(BaseModel):
    status: JobStatus
    reason: str
    components: dict[str, dict[str, Any]] = Field(default_factory=dict)


class _End(Exception):
    def __init__(self, status: JobStatus, reason: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@workflow.defn(name="Job")
class JobWorkflow:
    def __init__(self) -> None:
        self._status = JobStatus.WAITING
        self._reason = ""
        self._reports: list[TaskReport] = []
        self._admitted = False
        self._stop = False
        self._held: list[Party] = []
        self._dag: Dag | None = None
        self._expired = False
        self._announce_running = False
        self._unreachable: list[Party] = []
        self._ended = False

    # ---- the run ----------------------------------------------------------------------------

    @workflow.run
    async def run(self, job: JobInput) -> JobResult:
        self._job = job
        spec = job.spec
        self._source = spec.initiator
        previous = job.resume.dag if job.resume else job.rerun.previous if job.rerun else None
        dag = self._dag = Dag(spec, previous)
        if job.rerun:
            dag.prepare_rerun(job.rerun.component, job.rerun.force)
            self._reason = "rerun"
        continuing = False
        try:
            if job.resume:
                self._held = list(job.resume.held)
                # Signals can arrive with the first activation, before run() starts: keep them too.
                self._reports = [*job.resume.reports, *self._reports]
                self._started_at = job.resume.started_at
                self._stop = self._stop or job.resume.stop_requested
                self._status = JobStatus.RUNNING
            else:
                await self._prepare()
            await self._walk(dag)
            raise _End(JobStatus.SUCCESS)
        except _End as end:
            self._status, self._reason = end.status, end.reason
        except _ContinueAsNew:
            continuing = True
        finally:
            if not continuing:
                await self._finish(dag)
        if continuing:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                JobInput(
                    spec=spec,
                    max_concurrent_jobs=job.max_concurrent_jobs,
                    resume=Resume(
                        dag=dag.state,
                        started_at=self._started_at,
                        held=self._held,
                        reports=self._reports,
                        stop_requested=self._stop,
                    ),
                    history_limit=job.history_limit,
                    pull_interval_ms=job.pull_interval_ms,
                )
            )
        return JobResult(status=self._status, reason=self._reason, dag=dag.state)

    async def _prepare(self) -> None:
        spec = self._job.spec
        parties = tuple(p.party for p in spec.parties)
        waiting_since = workflow.now()
        if self._job.rerun:
            await self._fanout_status(JobStatus.WAITING, "rerun")
        await self._local(
            QueueActivities.enqueue_job,
            Enqueue(job_id=spec.job_id, max_concurrent_jobs=self._job.max_concurrent_jobs),
        )
        await self._local(
            FederationActivities.create_job_on_parties,
            JobParties(job_id=spec.job_id, initiator=spec.initiator, parties=parties),
        )
        self._reason = "waiting in the site's job queue"
        await self._wait_queued(lambda: self._admitted, waiting_since, "in the job queue")
        await self._acquire_resources(waiting_since)
        self._status, self._reason = JobStatus.RUNNING, ""
        self._started_at = workflow.now()
        # Sent together with the first tasks (see _walk_until_done) rather than before them.
        self._announce_running = True

    async def _wait_queued(
        self, condition: Callable[[], bool], since: datetime, where: str, *, at_most: float | None = None
    ) -> None:
        """Wait for ``condition`` (or ``at_most`` seconds) within the queue time limit.

        Everything before running shares that limit; a stop or the limit ends the job.
        """
        limit = self._job.spec.queue_timeout_s
        remaining = limit - (workflow.now() - since).total_seconds()
        expired = _End(JobStatus.TIMEOUT, f"waited {where} longer than the {limit} s queue limit")
        if remaining <= 0:
            raise expired
        timeout = remaining if at_most is None else min(at_most, remaining)
        try:
            await workflow.wait_condition(lambda: condition() or self._stop, timeout=timeout)
        except TimeoutError:
            if at_most is None:
                raise expired from None
        if self._stop:
            raise _End(JobStatus.CANCELED, f"stopped while waiting {where}")

    async def _acquire_resources(self, since: datetime) -> None:
        """Reserve cores on every party, all or none; retry with backoff while a party refuses."""
        spec = self._job.spec
        claims = tuple(
            ResourceClaim(party=p.party, engine=p.engine, cores=p.apply_cores)
            for p in spec.parties
            if p.apply_cores > 0
        )
        delay = 1.0
        while True:
            replies = await self._local(
                FederationActivities.apply_resources,
                ResourceClaims(job_id=spec.job_id, claims=claims),
                self._source,
            )
            self._held = [claim.party for claim, reply in zip(claims, replies, strict=True) if reply.granted]
            refusals = [
                reply.reason or f"{claim.party} refused {claim.cores} cores"
                for claim, reply in zip(claims, replies, strict=True)
                if not reply.granted
            ]
            if not refusals:
                return
            await self._return_resources()
            self._reason = f"waiting for resources: {'; '.join(refusals)}"
            await self._fanout_status(JobStatus.WAITING, self._reason)
            await self._wait_queued(lambda: False, since, "for resources", at_most=delay)
            delay = min(delay * 2, RESOURCE_RETRY_MAX_S)

    async def _walk(self, dag: Dag) -> None:
        spec = self._job.spec
        remaining = spec.timeout_s - (workflow.now() - self._started_at).total_seconds()
        # One timer for the whole run rather than one per wake-up keeps the history short.
        deadline = asyncio.create_task(self._expire_after(remaining))
        try:
            await self._walk_until_done(dag)
        finally:
            deadline.cancel()

    async def _expire_after(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0))
        self._expired = True

    async def _walk_until_done(self, dag: Dag) -> None:
        spec, job = self._job.spec, self._job
        pull = spec.status_collect == "PULL"
        while True:
            if self._stop:
                raise _End(JobStatus.CANCELED, "stopped by request")
            if self._expired:
                raise _End(JobStatus.TIMEOUT, f"the job ran longer than its timeout of {spec.timeout_s} s")
            starting = dag.next_to_start()
            for name in starting:
                dag.start(name)
            announce = [self._fanout_status(JobStatus.RUNNING)] if self._announce_running else []
            self._announce_running = False
            await asyncio.gather(*announce, *(self._start(dag, name) for name in starting))
            if dag.all_done():
                return
            woken = lambda: bool(self._reports) or self._stop or self._expired  # noqa: E731
            if pull:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(woken, timeout=job.pull_interval_ms / 1000)
            else:
                await workflow.wait_condition(woken)
            if pull and dag.running():
                reports = await self._local(
                    FederationActivities.query_task_status,
                    StatusQuery(
                        job_id=spec.job_id,
                        parties=tuple(p.party for p in spec.parties),
                        components=tuple(dag.running()),
                    ),
                    self._source,
                )
                self._reports.extend(reports)
            await self._handle_reports(dag)
            info = workflow.info()
            if info.get_current_history_length() > job.history_limit or info.is_continue_as_new_suggested():
                raise _ContinueAsNew()

    async def _handle_reports(self, dag: Dag) -> None:
        reports, self._reports = self._reports, []
        for report in reports:
            outcome = dag.apply(report)
            if outcome is None or not outcome.changed:
                continue
            if outcome.status in (TaskStatus.FAILED, TaskStatus.TIMEOUT, TaskStatus.CANCELED):
                run = dag.run(outcome.component)
                version, error = run.version, run.error
                await self._stop_component(dag, outcome.component, TaskStatus.FAILED)
                if dag.can_retry(outcome.component):
                    await asyncio.sleep(self._job.spec.auto_retry_delay_s)
                    dag.retry(outcome.component)
                    continue
                raise _End(
                    JobStatus.FAILED,
                    f"component {outcome.component} (task version {version}) {outcome.status.value}: {error}",
                )

    async def _start(self, dag: Dag, name: str) -> None:
        spec = self._job.spec
        run = dag.run(name)
        await self._local(
            FederationActivities.start_tasks,
            TaskFanout(
                job_id=spec.job_id,
                component=name,
                task_version=run.version,
                parties=spec.component(name).parties,
            ),
            self._source,
        )

    async def _stop_component(self, dag: Dag, name: str, status: TaskStatus) -> None:
        run = dag.run(name)
        parties = [p for p in dag.mark_ended(name, status) if p not in self._unreachable]
        if parties:
            unreachable = await self._local(
                FederationActivities.stop_tasks,
                TaskFanout(
                    job_id=self._job.spec.job_id,
                    component=name,
                    task_version=run.version,
                    parties=tuple(parties),
                    status=status,
                ),
                self._source,
            )
            self._reached(unreachable or [])

    # ---- every way out --------------------------------------------------------------------------

    async def _finish(self, dag: Dag) -> None:
        if not self._status.is_end:
            # Left by an unexpected error in this code: the job must still end everywhere.
            self._status, self._reason = JobStatus.FAILED, self._reason or "the scheduler failed"
        self._ended = True
        task_end = {
            JobStatus.CANCELED: TaskStatus.CANCELED,
            JobStatus.TIMEOUT: TaskStatus.TIMEOUT,
        }.get(self._status, TaskStatus.FAILED)
        # A party whose site is gone must not keep the job from ending, nor the others from being
        # told: each step reaches whom it can, and the parties left out are named in the reason.
        await self._ending(
            asyncio.gather(*(self._stop_component(dag, name, task_end) for name in dag.running())),
            "stopping the running tasks",
        )
        await self._ending(self._return_resources(), "returning resources")
        await self._ending(
            self._fanout_status(self._status, self._reason), "telling the parties how the job ended"
        )
        if self._unreachable:
            names = ", ".join(str(party) for party in self._unreachable)
            note = f"could not reach {names} to end the job there; its site may be down"
            self._reason = f"{self._reason}; {note}" if self._reason else note
        queue = queue_workflow_id(workflow.info().task_queue)
        await workflow.get_external_workflow_handle(queue).signal("release", self._job.spec.job_id)

    async def _ending(self, step: Awaitable[object], what: str) -> None:
        try:
            await step
        except _End as failure:
            self._reason = (
                f"{self._reason}; {what} failed: {failure.reason}" if self._reason else failure.reason
            )

    def _reached(self, unreachable: list[Party]) -> None:
        # Only while ending: a party missed earlier is retried by the next command, or ends the job.
        if self._ended:
            self._unreachable.extend(p for p in unreachable if p not in self._unreachable)

    async def _return_resources(self) -> None:
        if self._held:
            spec = self._job.spec
            held = tuple(p for p in self._held if p not in self._unreachable)
            self._held = []
            if held:
                unreachable = await self._local(
                    FederationActivities.return_resources,
                    JobParties(job_id=spec.job_id, initiator=spec.initiator, parties=held),
                )
                self._reached(unreachable or [])

    async def _fanout_status(self, status: JobStatus, reason: str = "") -> None:
        spec = self._job.spec
        parties = tuple(p.party for p in spec.parties if p.party not in self._unreachable)
        unreachable = await self._local(
            FederationActivities.update_job_status,
            JobStatusFanout(job_id=spec.job_id, parties=parties, status=status, reason=reason),
            self._source,
        )
        if status.is_end:
            self._reached(unreachable or [])

    async def _local(self, method: Any, *args: Any) -> Any:
        """Run a command activity, retried while its parties are unreachable, within the job's limit.

        A party's site that stays away longer than the job's timeout ends the job as failed, with the
        activity's last error (which names the party) as the reason.
        """
        limit = timedelta(seconds=max(self._job.spec.timeout_s, COMMAND_TIMEOUT.total_seconds()))
        try:
            return await workflow.execute_local_activity_method(
                method,
                args=list(args),
                start_to_close_timeout=COMMAND_TIMEOUT,
                schedule_to_close_timeout=limit,
            )
        except ActivityError as failure:
            cause = failure.cause
            raise _End(
                JobStatus.FAILED, str(cause.message if isinstance(cause, FailureError) else failure)
            ) from None

    # ---- signals and queries ----------------------------------------------------------------

    @workflow.signal
    def task_report(self, report: TaskReport) -> None:
        self._reports.append(report)

    @workflow.signal
    def admitted(self) -> None:
        self._admitted = True

    @workflow.signal
    def stop(self) -> None:
        self._stop = True

    @workflow.query
    def view(self) -> JobView:
        components: dict[str, dict[str, Any]] = {}
        if self._dag is not None:
            for name, run in self._dag.state.components.items():
                components[name] = {
                    "task_version": run.version,
                    "status": run.status.value,
                    "party_status": {k: v.value for k, v in run.party_status.items()},
                    "error": run.error,
                }
        return JobView(status=self._status, reason=self._reason, components=components)


class _ContinueAsNew(Exception):
    """Raised out of the walk when the history is long; the run then continues as new."""
