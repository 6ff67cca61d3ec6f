"""The job workflow's commands to its parties and its every way out, apart from its scheduling.

:class:`JobCommands` is the base of :class:`~accord.workflows.job.JobWorkflow`: it holds the state the
commands need and runs each command as a local activity retried while parties are away; the ending stops
what still runs, returns the cores and tells every party how the job ended, however it ended.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from accord import contracts
    from accord.contracts import JobEndDelivery, JobParties, JobStatusFanout, TaskFanout
    from accord.identity import Party
    from accord.status import JobStatus, TaskStatus
    from accord.workflows.dag import Dag
    from accord.workflows.delivery import JobEndDeliveryWorkflow, JobEndInput, delivery_workflow_id
    from accord.workflows.job_io import JobInput
    from accord.workflows.visibility import parties_label

COMMAND_TIMEOUT = timedelta(seconds=30)
# Asked again while a party is unreachable, at least every 30 s: below the SDK's local retry threshold
# (60 s), so waiting out an outage adds no timers to the history. A party's refusal is not asked again
# (the activity fails with a non-retryable coded error, see accord.activities.edge).
COMMAND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=30)
)
# Runs before it used the SDK's default policy, whose backoff grows into workflow timers.
COMMAND_RETRY_PATCH = "accord-command-retry-policy"


class End(Exception):
    def __init__(self, status: JobStatus, reason: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class JobCommands:
    """State and commands shared by the job workflow's steps; the workflow sets them as it runs."""

    _job: JobInput
    _source: Party

    def __init__(self) -> None:
        self._status = JobStatus.WAITING
        self._reason = ""
        self._held: list[Party] = []
        self._unreachable: list[Party] = []
        self._attributes = False
        self._published: JobStatus | None = None
        self._command_retry: RetryPolicy | None = None

    def _publish(self) -> None:
        """Keep AccordJobStatus as the job's status, so the UI filters on it."""
        if self._attributes and self._published != self._status:
            self._published = self._status
            workflow.upsert_search_attributes([contracts.JOB_STATUS.value_set(self._status.value)])

    async def _release_queue_slot(self) -> None:
        queue = contracts.queue_workflow_id(workflow.info().task_queue)
        await workflow.get_external_workflow_handle(queue).signal(contracts.RELEASE, self._job.spec.job_id)

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
        await self._release_queue_slot()

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
        except End:
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
            raise End(
                JobStatus.FAILED, str(cause.message if isinstance(cause, FailureError) else failure)
            ) from None
        except ApplicationError as refusal:
            # A local activity's non-retryable failure comes back as itself, not as an ActivityError.
            if self._command_retry is None:
                raise
            raise End(JobStatus.FAILED, refusal.message) from None
