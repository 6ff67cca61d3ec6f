"""Give back what jobs whose workflow was ended outside Accord still hold: queue slots and cores.

A job workflow returns its cores and its queue slot on every way out it controls. One terminated
from the Temporal UI (or CLI, or lost with its history) runs none of that code, so its slot and its
cores would stay taken for good. The worker runs :meth:`Reconciler.run`, which every
``reconcile_interval_s`` finds jobs initiated here that are not ended, hold cores or sit in the queue,
asks Temporal whether their workflow is still open, and for those that are closed does what the
workflow's own ending would have done: stop and end the job on every party (with the reason), return
every party's cores and free the queue slot. Every step is idempotent, so a pass that is cut short is
simply completed by the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from accord.dsl_compiler import JobPlan
from accord.errors import AccordError
from accord.federation.client import FederationClient
from accord.federation.commands import ReturnResource, UpdateJobStatus
from accord.identity import Party
from accord.persistence import JobRecord, JobRepository, ResourceRepository
from accord.status import JobStatus
from accord.workflows.queue import JobQueueWorkflow, queue_workflow_id
from accord.workflows.visibility import ENDING_MEMO, JobEnding

log = logging.getLogger(__name__)

OPEN_STATUSES = (JobStatus.WAITING, JobStatus.READY, JobStatus.RUNNING, JobStatus.PAUSED)
# Enough for any site: jobs waiting or running at once are bounded by the queue long before this.
SCAN_LIMIT = 10_000

# How each way a workflow can close without its own ending maps onto FATE's job statuses. A job's own
# ending also closes its workflow failed (failed, timeout) or canceled (stopped); that ending, kept in
# the workflow's memo, wins over these.
_ENDINGS: dict[WorkflowExecutionStatus, tuple[JobStatus, str]] = {
    WorkflowExecutionStatus.TERMINATED: (JobStatus.CANCELED, "its workflow was terminated outside Accord"),
    WorkflowExecutionStatus.CANCELED: (JobStatus.CANCELED, "its workflow was canceled outside Accord"),
    WorkflowExecutionStatus.TIMED_OUT: (JobStatus.TIMEOUT, "its workflow timed out in Temporal"),
    WorkflowExecutionStatus.FAILED: (JobStatus.FAILED, "its workflow failed in Temporal"),
}
_GONE = (JobStatus.FAILED, "its workflow is gone from Temporal")


class Reconciler:
    def __init__(
        self,
        temporal: Client,
        task_queue: str,
        jobs: JobRepository,
        resources: ResourceRepository,
        federation: FederationClient,
        *,
        interval_s: float,
    ) -> None:
        self._temporal = temporal
        self._queue_id = queue_workflow_id(task_queue)
        self._jobs = jobs
        self._resources = resources
        self._federation = federation
        self._interval_s = interval_s
        # Jobs whose workflow Temporal did not know on the last pass. A job is stored just before its
        # workflow starts, so one unknown workflow is not yet a lost one: two passes in a row are.
        self._unknown: set[str] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """A pass every ``interval_s`` until ``stop`` is set; a failed pass is logged and retried."""
        while not stop.is_set():
            try:
                await self.reconcile_once()
            except Exception:
                log.exception(
                    "reconciling jobs with their workflows failed; retrying in %g s", self._interval_s
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)

    async def reconcile_once(self) -> list[str]:
        """One pass; the ids of the jobs it ended or freed resources of."""
        queued = await self._queued()
        initiated = await asyncio.to_thread(self._initiated_candidates)
        unknown: set[str] = set()
        handled: list[str] = []
        for job_id in sorted(queued | set(initiated)):
            ending: tuple[JobStatus, str] | None
            description = await self._describe(job_id)
            status = None if description is None else description.status
            if description is None or status is None:
                unknown.add(job_id)
                if job_id not in self._unknown:
                    continue
                ending = _GONE
            elif status == WorkflowExecutionStatus.RUNNING:
                continue
            else:
                ending = _ENDINGS.get(status)
                if ending is not None:
                    ending = await _own_ending(description) or ending
            record = initiated.get(job_id)
            if ending is not None and record is not None:
                await self._end(record, *ending)
            if job_id in queued:
                await self._release(job_id)
            if ending is not None or job_id in queued:
                handled.append(job_id)
        self._unknown = unknown
        return handled

    async def _queued(self) -> set[str]:
        try:
            state = await self._temporal.get_workflow_handle_for(JobQueueWorkflow.run, self._queue_id).query(
                JobQueueWorkflow.snapshot
            )
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return set()  # no job was ever queued on this site
            raise
        return {*state.waiting, *state.running}

    def _initiated_candidates(self) -> dict[str, JobRecord]:
        """Initiator rows of jobs that are not ended, or hold cores on some party of this site."""
        rows = self._jobs.list_jobs(status=OPEN_STATUSES, limit=SCAN_LIMIT)
        job_ids = {row.job_id for row in rows} | {job_id for job_id, _, _ in self._resources.holders()}
        found: dict[str, JobRecord] = {}
        for job_id in job_ids:
            initiator = next((r for r in self._jobs.parties(job_id) if r.is_initiator), None)
            # A job initiated elsewhere is reconciled by its initiator, whose Temporal runs its workflow.
            if initiator is not None and initiator.plan is not None:
                found[job_id] = initiator
        return found

    async def _describe(self, job_id: str) -> WorkflowExecutionDescription | None:
        try:
            return await self._temporal.get_workflow_handle(job_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    async def _end(self, record: JobRecord, status: JobStatus, reason: str) -> None:
        """What the workflow's own ending does: end the job on every party, then return its cores."""
        plan = JobPlan.model_validate(record.plan)
        source = Party(role=plan.initiator.role, party_id=plan.initiator.party_id)
        parties = [Party(role=p.role, party_id=p.party_id) for p in plan.parties]
        log.warning("job %s: %s; ending it as %s and returning its resources", record.job_id, reason, status)
        for party in parties:
            # Ending the job stops its tasks there; a party not reached is tried again next pass. Both
            # commands are idempotent, so each pass sends them afresh (new request ids).
            try:
                await self._federation.update_job_status(
                    UpdateJobStatus(job_id=record.job_id, party=party, status=status, reason=reason),
                    source=source,
                )
                await self._federation.return_resource(
                    ReturnResource(job_id=record.job_id, party=party), source=source
                )
            except AccordError as error:
                log.warning("job %s: could not end it on %s yet: %s", record.job_id, party, error)

    async def _release(self, job_id: str) -> None:
        handle = self._temporal.get_workflow_handle_for(JobQueueWorkflow.run, self._queue_id)
        await handle.signal(JobQueueWorkflow.release, job_id)


async def _own_ending(description: WorkflowExecutionDescription) -> tuple[JobStatus, str] | None:
    """The status and reason the job workflow ended the job with, if it got that far."""
    ending = await description.memo_value(ENDING_MEMO, None, type_hint=JobEnding)
    if ending is None:
        return None
    return ending.status, ending.reason or f"its workflow ended the job {ending.status}"
