"""The job workflow on the initiator's site (workflow id = job id).

It creates the job on every party, waits its turn in the site's queue, reserves resources on every
party as a saga, walks the DAG with :class:`~accord.workflows.dag.Dag`, and on every way out stops
what still runs, returns the resources and tells every party how the job ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from accord import contracts
    from accord.contracts import (
        Enqueue,
        JobEndDelivery,
        JobParties,
        JobStatusFanout,
        ResourceClaim,
        ResourceClaims,
        StatusQuery,
        TaskFanout,
    )
    from accord.identity import Party, TaskReport
    from accord.status import JobStatus, TaskStatus
    from accord.workflows.dag import Dag
    from accord.workflows.delivery import JobEndDeliveryWorkflow, JobEndInput, delivery_workflow_id
    from accord.workflows.job_io import JobInput, JobResult, JobView, Resume
    from accord.workflows.party import party_workflow_id
    from accord.workflows.visibility import (
        ENDING_MEMO,
        PARTY_WORKFLOWS_MEMO,
        UI_PATCH,
        JobEnding,
        ending_failure,
        job_attributes,
        parties_label,
    )

COMMAND_TIMEOUT = timedelta(seconds=30)
# Asked again while a party is unreachable, at least every 30 s: below the SDK's local retry threshold
# (60 s), so waiting out an outage adds no timers to the history. A party's refusal is not asked again
# (the activity fails with a non-retryable coded error, see accord.activities.edge).
COMMAND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=30)
)
# Runs before it used the SDK's default policy, whose backoff grows into workflow timers.
COMMAND_RETRY_PATCH = "accord-command-retry-policy"
RESOURCE_RETRY_MAX_S = 30.0


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
        # What the web UI shows (see accord.workflows.visibility): off when replaying older runs.
        self._ui = False
        self._attributes = False
        self._published: JobStatus | None = None
        self._cancel_requested = False
        self._command_retry: RetryPolicy | None = None

    # ---- the run ----------------------------------------------------------------------------

    @workflow.run
    async def run(self, job: JobInput) -> JobResult:
        """The job, ended as Temporal names it: completed on success, else failed or canceled.

        A cancel request (``accord job stop``, or the UI's "Request Cancellation") stops the job as the
        stop signal does: the body is shielded from it and still stops the tasks, returns the cores and
        tells every party, and only then does the workflow close as canceled.
        """
        body = asyncio.ensure_future(self._run(job))
        while True:
            try:
                result = await asyncio.shield(body)
                break
            except asyncio.CancelledError:
                if body.done():
                    result = body.result()
                    break
                self._stop = self._cancel_requested = True
        return self._close(result)

    def _close(self, result: JobResult) -> JobResult:
        if not self._ui or result.status == JobStatus.SUCCESS:
            return result
        raise ending_failure(result.status, result.reason, result, canceled=self._cancel_requested)

    async def _run(self, job: JobInput) -> JobResult:
        self._job = job
        spec = job.spec
        self._ui = workflow.patched(UI_PATCH)
        if workflow.patched(COMMAND_RETRY_PATCH):
            self._command_retry = COMMAND_RETRY
        self._source = spec.initiator
        previous = job.resume.dag if job.resume else job.rerun.previous if job.rerun else None
        dag = self._dag = Dag(spec, previous)
        if job.rerun:
            dag.prepare_rerun(job.rerun.component, job.rerun.force)
            self._reason = "rerun"
        continuing = dropped = False
        try:
            if self._ui:
                await self._show(job)
            if job.resume:
                self._held = list(job.resume.held)
                # Signals can arrive with the first activation, before run() starts: keep them too.
                self._reports = [*job.resume.reports, *self._reports]
                self._started_at = job.resume.started_at
                self._stop = self._stop or job.resume.stop_requested
                self._status = JobStatus.RUNNING
                self._publish()
            else:
                await self._prepare()
            await self._walk(dag)
            raise _End(JobStatus.SUCCESS)
        except _End as end:
            self._status, self._reason = end.status, end.reason
        except _ContinueAsNew:
            continuing = True
        except GeneratorExit:
            # Closed by the garbage collector after its worker dropped the run (shut down, evicted):
            # no workflow call can run now, and the worker that picks the run up replays it.
            dropped = True
            raise
        finally:
            if not (continuing or dropped):
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
                        search_attributes=self._attributes,
                    ),
                    history_limit=job.history_limit,
                    pull_interval_ms=job.pull_interval_ms,
                )
            )
        if self._ui:
            workflow.upsert_memo({ENDING_MEMO: JobEnding(status=self._status, reason=self._reason)})
        return JobResult(status=self._status, reason=self._reason, dag=dag.state)

    async def _show(self, job: JobInput) -> None:
        """The search attributes and memo that let the UI find the job and its party workflows."""
        spec = job.spec
        if job.resume:
            # A continued run keeps the attributes and memo its first run set.
            self._attributes = job.resume.search_attributes
            return
        workflow.upsert_memo(
            {
                PARTY_WORKFLOWS_MEMO: {
                    str(p.party): party_workflow_id(spec.job_id, p.party) for p in spec.parties
                }
            }
        )
        self._attributes = await self._local(
            contracts.search_attributes_ready, summary="check the site's search attributes"
        )
        if self._attributes:
            workflow.upsert_search_attributes(job_attributes(spec))
            self._publish()

    def _publish(self) -> None:
        """Keep AccordJobStatus as the job's status, so the UI filters on it."""
        if self._attributes and self._published != self._status:
            self._published = self._status
            workflow.upsert_search_attributes([contracts.JOB_STATUS.value_set(self._status.value)])

    async def _prepare(self) -> None:
        spec = self._job.spec
        parties = tuple(p.party for p in spec.parties)
        waiting_since = workflow.now()
        if self._job.rerun:
            await self._fanout_status(JobStatus.WAITING, "rerun")
        await self._local(
            contracts.enqueue_job,
            Enqueue(job_id=spec.job_id, max_concurrent_jobs=self._job.max_concurrent_jobs),
            summary="join the site's job queue",
        )
        await self._local(
            contracts.create_job_on_parties,
            JobParties(job_id=spec.job_id, initiator=spec.initiator, parties=parties),
            summary=f"create the job on {parties_label(parties)}",
        )
        self._reason = "waiting in the site's job queue"
        await self._wait_queued(lambda: self._admitted, waiting_since, "in the job queue")
        await self._acquire_resources(waiting_since)
        self._status, self._reason = JobStatus.RUNNING, ""
        self._publish()
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
                contracts.apply_resources,
                ResourceClaims(job_id=spec.job_id, claims=claims),
                self._source,
                summary=f"reserve cores on {parties_label(c.party for c in claims)}",
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
                    contracts.query_task_status,
                    StatusQuery(
                        job_id=spec.job_id,
                        parties=tuple(p.party for p in spec.parties),
                        components=tuple(dag.running()),
                    ),
                    self._source,
                    summary=f"collect the status of {', '.join(dag.running())}",
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
            contracts.start_tasks,
            TaskFanout(
                job_id=spec.job_id,
                component=name,
                task_version=run.version,
                parties=spec.component(name).parties,
            ),
            self._source,
            summary=f"start {name} v{run.version} on {parties_label(spec.component(name).parties)}",
        )

    async def _stop_component(self, dag: Dag, name: str, status: TaskStatus) -> None:
        run = dag.run(name)
        # A party missed here is reached by the next command, or its absence ends the job.
        parties = dag.mark_ended(name, status)
        if parties:
            await self._local(
                contracts.stop_tasks,
                TaskFanout(
                    job_id=self._job.spec.job_id,
                    component=name,
                    task_version=run.version,
                    parties=tuple(parties),
                    status=status,
                ),
                self._source,
                summary=f"stop {name} v{run.version} ({status.value}) on {parties_label(parties)}",
            )

    # ---- every way out --------------------------------------------------------------------------

    async def _finish(self, dag: Dag) -> None:
        if not self._status.is_end:
            # Left by an unexpected error in this code: the job must still end everywhere.
            self._status, self._reason = JobStatus.FAILED, self._reason or "the scheduler failed"
        self._publish()
        task_end = {
            JobStatus.CANCELED: TaskStatus.CANCELED,
            JobStatus.TIMEOUT: TaskStatus.TIMEOUT,
        }.get(self._status, TaskStatus.FAILED)
        spec = self._job.spec
        stopping = [(name, dag.run(name).version, dag.mark_ended(name, task_end)) for name in dag.running()]
        held, self._held = list(self._held), []
        end = JobEndDelivery(
            job_id=spec.job_id,
            initiator=spec.initiator,
            parties=(),
            held=(),
            status=self._status,
            reason=self._reason,
        )
        # Each party is ended on its own: one whose site is down must not hold the others' ending
        # back, nor the job's. It is told by retried delivery once its site is back.
        parties = [p.party for p in spec.parties]
        reached = await asyncio.gather(
            *(
                self._end_on(
                    party, [(n, v) for n, v, on in stopping if party in on], task_end, party in held, end
                )
                for party in parties
            )
        )
        self._unreachable = [party for party, ok in zip(parties, reached, strict=True) if not ok]
        if self._unreachable:
            names = ", ".join(str(party) for party in self._unreachable)
            note = f"could not reach {names} to end the job there; its site is told once it is back"
            self._reason = f"{self._reason}; {note}" if self._reason else note
            late = end.model_copy(
                update={
                    "parties": tuple(self._unreachable),
                    "held": tuple(p for p in self._unreachable if p in held),
                }
            )
            await workflow.start_child_workflow(
                JobEndDeliveryWorkflow.run,
                JobEndInput(end=late, within_s=spec.timeout_s),
                id=delivery_workflow_id(spec.job_id, workflow.info().run_id),
                task_queue=workflow.info().task_queue,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        queue = contracts.queue_workflow_id(workflow.info().task_queue)
        await workflow.get_external_workflow_handle(queue).signal(contracts.RELEASE, self._job.spec.job_id)

    async def _end_on(
        self,
        party: Party,
        stops: list[tuple[str, int]],
        task_end: TaskStatus,
        held: bool,
        end: JobEndDelivery,
    ) -> bool:
        """Stop the party's tasks, return its cores, tell it how the job ended; False if not reached."""
        job_id = end.job_id
        try:
            missed = await asyncio.gather(
                *(
                    self._local(
                        contracts.stop_tasks,
                        TaskFanout(
                            job_id=job_id,
                            component=name,
                            task_version=version,
                            parties=(party,),
                            status=task_end,
                        ),
                        self._source,
                        summary=f"stop {name} v{version} ({task_end.value}) on {party}",
                    )
                    for name, version in stops
                )
            )
            if any(missed):
                return False
            if held and await self._local(
                contracts.return_resources,
                JobParties(job_id=job_id, initiator=end.initiator, parties=(party,)),
                summary=f"return the cores of {party}",
            ):
                return False
            return not await self._local(
                contracts.update_job_status,
                JobStatusFanout(job_id=job_id, parties=(party,), status=end.status, reason=end.reason),
                self._source,
                summary=f"tell {party} the job {end.status.value}",
            )
        except _End:
            # The command activity itself gave up (the job's limit passed): treat as not reached.
            return False

    async def _return_resources(self) -> None:
        if self._held:
            spec = self._job.spec
            held, self._held = tuple(self._held), []
            await self._local(
                contracts.return_resources,
                JobParties(job_id=spec.job_id, initiator=spec.initiator, parties=held),
                summary=f"return the cores of {parties_label(held)}",
            )

    async def _fanout_status(self, status: JobStatus, reason: str = "") -> None:
        spec = self._job.spec
        parties = tuple(p.party for p in spec.parties)
        await self._local(
            contracts.update_job_status,
            JobStatusFanout(job_id=spec.job_id, parties=parties, status=status, reason=reason),
            self._source,
            summary=f"tell {parties_label(parties)} the job is {status.value}",
        )

    async def _local(self, method: Any, *args: Any, summary: str | None = None) -> Any:
        """Run a command activity, retried while its parties are unreachable, within the job's limit.

        A party's site that stays away longer than the job's timeout ends the job as failed, with the
        activity's last error (which names the party) as the reason; a party's refusal (a permanent
        coded error) ends it so at once.
        """
        limit = timedelta(seconds=max(self._job.spec.timeout_s, COMMAND_TIMEOUT.total_seconds()))
        try:
            return await workflow.execute_local_activity(
                method,
                args=list(args),
                start_to_close_timeout=COMMAND_TIMEOUT,
                schedule_to_close_timeout=limit,
                retry_policy=self._command_retry,
                # Shown by the web UI next to the activity's name.
                summary=summary,
            )
        except ActivityError as failure:
            cause = failure.cause
            raise _End(
                JobStatus.FAILED, str(cause.message if isinstance(cause, FailureError) else failure)
            ) from None
        except ApplicationError as refusal:
            # A local activity's non-retryable failure comes back as itself, not as an ActivityError.
            if self._command_retry is None:
                raise
            raise _End(JobStatus.FAILED, refusal.message) from None

    # ---- signals and queries ----------------------------------------------------------------

    @workflow.signal
    def task_report(self, report: TaskReport) -> None:
        self._reports.append(report)

    @workflow.signal(name=contracts.ADMITTED)
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
