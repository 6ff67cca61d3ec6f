"""The job workflow on the initiator's site (workflow id = job id).

It creates the job on every party, waits its turn in the site's queue, reserves resources on every
party as a saga, walks the DAG with :class:`~accord.workflows.dag.Dag`, and on every way out stops
what still runs, returns the resources and tells every party how the job ended.

A pause lets the running tasks finish and starts no new ones; then the job returns every party's
cores and its queue slot and waits, as ``paused``, for a resume (or a stop), which puts it back in the
queue. Time spent paused does not count against the job's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from accord import contracts
    from accord.contracts import (
        Enqueue,
        JobParties,
        ResourceClaim,
        ResourceClaims,
        ReuseProbe,
        StatusQuery,
        TaskFanout,
    )
    from accord.identity import ReuseCandidate, TaskReport
    from accord.status import JobStatus, TaskStatus
    from accord.workflows.dag import Dag
    from accord.workflows.job_commands import (
        COMMAND_RETRY,
        COMMAND_RETRY_PATCH,
        End,
        JobCommands,
    )
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

# Runs before it started every component afresh, without asking the parties for earlier runs.
REUSE_PATCH = "accord-component-reuse"
RESOURCE_RETRY_MAX_S = 30.0
PAUSED_REASON = "paused by request: `accord job resume` carries on"
PAUSING_REASON = "pausing: the running tasks finish, no new task starts"


@workflow.defn(name="Job")
class JobWorkflow(JobCommands):
    def __init__(self) -> None:
        super().__init__()
        self._reports: list[TaskReport] = []
        self._admitted = False
        self._stop = False
        self._dag: Dag | None = None
        self._expired = False
        self._announce_running = False
        # What the web UI shows (see accord.workflows.visibility): off when replaying older runs.
        self._ui = False
        self._cancel_requested = False
        self._pause = False
        self._reuse = False

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
        # A forced rerun runs everything it reruns for real.
        forced = bool(job.rerun and job.rerun.force) or bool(job.resume and job.resume.reuse_off)
        self._reuse = workflow.patched(REUSE_PATCH) and not forced
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
                self._pause = self._pause or job.resume.pause_requested
                self._status = JobStatus.RUNNING
                self._publish()
            else:
                await self._prepare()
            await self._walk(dag)
            raise End(JobStatus.SUCCESS)
        except End as end:
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
                        pause_requested=self._pause,
                        reuse_off=not self._reuse,
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
        await self._admit_and_reserve(waiting_since)
        self._started_at = workflow.now()

    async def _admit_and_reserve(self, waiting_since: datetime) -> None:
        """Wait for the queue's admission, then reserve every party's cores; the job is then running."""
        self._reason = "waiting in the site's job queue"
        await self._wait_queued(lambda: self._admitted, waiting_since, "in the job queue")
        await self._acquire_resources(waiting_since)
        self._status, self._reason = JobStatus.RUNNING, ""
        self._publish()
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
        expired = End(JobStatus.TIMEOUT, f"waited {where} longer than the {limit} s queue limit")
        if remaining <= 0:
            raise expired
        timeout = remaining if at_most is None else min(at_most, remaining)
        try:
            await workflow.wait_condition(lambda: condition() or self._stop, timeout=timeout)
        except TimeoutError:
            if at_most is None:
                raise expired from None
        if self._stop:
            raise End(JobStatus.CANCELED, f"stopped while waiting {where}")

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
        while True:
            remaining = spec.timeout_s - (workflow.now() - self._started_at).total_seconds()
            # One timer per stretch of running rather than one per wake-up keeps the history short.
            deadline = asyncio.create_task(self._expire_after(remaining))
            try:
                done = await self._walk_until_done(dag)
            finally:
                deadline.cancel()
            if done:
                return
            await self._stay_paused()

    async def _expire_after(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0))
        self._expired = True

    async def _walk_until_done(self, dag: Dag) -> bool:
        """Walk until every component has ended (True) or, paused, none runs any more (False)."""
        spec, job = self._job.spec, self._job
        pull = spec.status_collect == "PULL"
        while True:
            if self._stop:
                raise End(JobStatus.CANCELED, "stopped by request")
            if self._expired:
                raise End(JobStatus.TIMEOUT, f"the job ran longer than its timeout of {spec.timeout_s} s")
            if self._pause and not dag.running() and not dag.all_done():
                return False
            starting = [] if self._pause else dag.next_to_start()
            for name in starting:
                dag.start(name)
            announce = [self._fanout_status(JobStatus.RUNNING)] if self._announce_running else []
            self._announce_running = False
            await asyncio.gather(*announce, *(self._start(dag, name) for name in starting))
            if dag.all_done():
                return True
            woken = lambda: (  # noqa: E731
                bool(self._reports) or self._stop or self._expired or (self._pause and not dag.running())
            )
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

    async def _stay_paused(self) -> None:
        """Paused with nothing running: give back the cores and the queue slot, wait, then queue again."""
        paused_at = workflow.now()
        self._status, self._reason = JobStatus.PAUSED, PAUSED_REASON
        self._publish()
        workflow.set_current_details(f"paused since {paused_at:%Y-%m-%d %H:%M:%S} UTC: {PAUSED_REASON}")
        await self._return_resources()
        await self._release_queue_slot()
        await self._fanout_status(JobStatus.PAUSED, PAUSED_REASON)
        await workflow.wait_condition(lambda: not self._pause or self._stop)
        if self._stop:
            raise End(JobStatus.CANCELED, "stopped while paused")
        workflow.set_current_details("")
        # The job's time limit counts running time only.
        self._started_at += workflow.now() - paused_at
        waiting_since = workflow.now()
        self._admitted = False
        self._status, self._reason = JobStatus.WAITING, "resumed: waiting in the site's job queue"
        self._publish()
        await self._fanout_status(JobStatus.WAITING, self._reason)
        await self._local(
            contracts.enqueue_job,
            Enqueue(job_id=self._job.spec.job_id, max_concurrent_jobs=self._job.max_concurrent_jobs),
            summary="join the site's job queue again",
        )
        await self._admit_and_reserve(waiting_since)

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
                raise End(
                    JobStatus.FAILED,
                    f"component {outcome.component} (task version {version}) {outcome.status.value}: {error}",
                )

    async def _start(self, dag: Dag, name: str) -> None:
        spec = self._job.spec
        run = dag.run(name)
        parties = spec.component(name).parties
        source = await self._reusable(dag, name) if self._reuse else None
        await self._local(
            contracts.start_tasks,
            TaskFanout(
                job_id=spec.job_id,
                component=name,
                task_version=run.version,
                parties=parties,
                reuse_from=source,
            ),
            self._source,
            summary=f"start {name} v{run.version} on {parties_label(parties)}"
            + (f", reusing job {source.job_id}'s {source.component}" if source else ""),
        )

    async def _reusable(self, dag: Dag, name: str) -> ReuseCandidate | None:
        """An earlier run of the component that every party offers to reuse, the newest; else None.

        Each party offers only runs whose module, version, its own parameters and the contents of its
        inputs equal this task's, and whose outputs it still holds; a run all parties offer is one they
        all agree on.
        """
        spec = self._job.spec
        if not (spec.may_reuse(name) and dag.may_reuse(name)):
            return None
        parties = spec.component(name).parties
        offers = await self._local(
            contracts.probe_reuse,
            ReuseProbe(job_id=spec.job_id, component=name, parties=parties),
            self._source,
            summary=f"ask {parties_label(parties)} for earlier runs of {name}",
        )
        common: set[ReuseCandidate] | None = None
        for offer in offers:
            mine = set(offer.candidates)
            common = mine if common is None else common & mine
        if not common:
            return None
        # Job ids begin with their submit time: the largest is the newest run.
        chosen = max(common, key=lambda c: (c.job_id, c.task_version))
        dag.note_reuse(name, f"job {chosen.job_id}, component {chosen.component}")
        return chosen

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

    @workflow.signal
    def pause(self) -> None:
        """Start no new task; once the running ones end, give back cores and queue slot and wait."""
        self._pause = True
        if self._status == JobStatus.RUNNING:
            self._reason = PAUSING_REASON

    @workflow.signal
    def resume(self) -> None:
        """Carry on: a paused job queues again; one still pausing simply goes on running."""
        self._pause = False
        if self._reason == PAUSING_REASON:
            self._reason = ""

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
                    "reused_from": run.reused_from,
                }
        return JobView(
            status=self._status, reason=self._reason, components=components, pause_requested=self._pause
        )


class _ContinueAsNew(Exception):
    """Raised out of the walk when the history is long; the run then continues as new."""
