"""The party workflow: one per (job, role, party id) on the site hosting that party.

It receives task commands from the initiator, runs each task as a heartbeating activity, and
reports every status change: to its own read model always, and to the initiator when the job
collects statuses by PUSH.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from accord import contracts
    from accord.contracts import ReportTask, RunTask
    from accord.federation.commands import StartTask, StopTask
    from accord.identity import Party, TaskReport
    from accord.status import JobStatus, TaskStatus
    from accord.workflows.visibility import JOB_WORKFLOW_MEMO, UI_PATCH, task_summary

# A worker that dies is noticed when heartbeats stop; the task is then retried on a live worker.
HEARTBEAT_TIMEOUT = timedelta(seconds=4)
TASK_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=20,
    non_retryable_error_types=[contracts.COMPONENT_FAILURE, contracts.RUN_LOST],
)
REPORT_TIMEOUT = timedelta(seconds=30)


def party_workflow_id(job_id: str, party: Party) -> str:
    return f"{job_id}_{party.role}_{party.party_id}"


class PartyInput(BaseModel):
    job_id: str
    party: Party
    initiator: Party
    push: bool
    task_timeout_s: int


@workflow.defn(name="PartyJob")
class PartyWorkflow:
    def __init__(self) -> None:
        self._starts: list[StartTask] = []
        self._stops: list[StopTask] = []
        self._running: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._stop_status: dict[tuple[str, int], TaskStatus] = {}
        self._seen: set[tuple[str, int]] = set()
        self._finished: JobStatus | None = None

    @workflow.run
    async def run(self, job: PartyInput) -> JobStatus:
        self._job = job
        if workflow.patched(UI_PATCH):
            # The job workflow runs on the initiator's site (its Temporal, in a cluster) under the job id.
            workflow.upsert_memo({JOB_WORKFLOW_MEMO: {"workflow_id": job.job_id, "site": str(job.initiator)}})
        while True:
            await workflow.wait_condition(
                lambda: bool(self._starts or self._stops) or self._finished is not None
            )
            starts, self._starts = self._starts, []
            stops, self._stops = self._stops, []
            for command in starts:
                key = (command.component, command.task_version)
                if key not in self._seen:
                    self._seen.add(key)
                    self._running[key] = asyncio.create_task(self._run_task(command))
            for stop in stops:
                key = (stop.component, stop.task_version)
                task = self._running.get(key)
                if task is not None and not task.done():
                    self._stop_status[key] = stop.status
                    task.cancel()
            if self._finished is not None:
                # The job has ended: whatever still runs here is stopped with it.
                for key, task in self._running.items():
                    if not task.done():
                        self._stop_status[key] = TaskStatus.CANCELED
                        task.cancel()
                await asyncio.gather(*self._running.values(), return_exceptions=True)
                return self._finished

    async def _run_task(self, command: StartTask) -> None:
        key = (command.component, command.task_version)
        lost = False
        try:
            # The activity reports its own start and outcome (running, success, component failure).
            await workflow.execute_activity(
                contracts.run_task,
                RunTask(
                    job_id=command.job_id,
                    party=command.party,
                    component=command.component,
                    task_version=command.task_version,
                    initiator=self._job.initiator,
                    push=self._job.push,
                    reuse_from=command.reuse_from,
                ),
                start_to_close_timeout=timedelta(seconds=self._job.task_timeout_s),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=TASK_RETRY,
                # The UI lists every task run as run_task otherwise.
                summary=task_summary(command.component, command.party, command.task_version),
            )
            return
        except asyncio.CancelledError:
            status, error = self._stop_status.get(key, TaskStatus.CANCELED), ""
        except ActivityError as failure:
            cause = failure.cause
            if isinstance(cause, ApplicationError) and cause.type == contracts.COMPONENT_FAILURE:
                return
            if isinstance(cause, CancelledError):
                status, error = self._stop_status.get(key, TaskStatus.CANCELED), ""
            elif isinstance(cause, ApplicationError) and cause.type == contracts.RUN_LOST:
                # The job runs the task again on every party under a new version.
                status, error, lost = TaskStatus.FAILED, cause.message, True
            else:
                # Timed out or out of retries: the worker, not the component, gave up.
                status, error = TaskStatus.FAILED, str(cause or failure)
        await self._report(command, status, error, lost=lost)

    async def _report(
        self, command: StartTask, status: TaskStatus, error: str = "", *, lost: bool = False
    ) -> None:
        report = TaskReport(
            job_id=command.job_id,
            party=command.party,
            component=command.component,
            task_version=command.task_version,
            status=status,
            error=error,
            lost=lost,
        )
        try:
            await workflow.execute_local_activity(
                contracts.report_task,
                ReportTask(report=report, initiator=self._job.initiator, push=self._job.push),
                start_to_close_timeout=REPORT_TIMEOUT,
                summary=f"report {task_summary(command.component, command.party, command.task_version)} "
                f"{status.value}",
            )
        except (ActivityError, ApplicationError) as failure:
            # Only a refusal ends the (otherwise endlessly retried) report: asking again cannot help,
            # and the initiator ends the job on its own (its status pulls, its timeout). A local
            # activity's non-retryable failure comes back as the ApplicationError itself.
            workflow.logger.warning(
                "job %s: the report of %s was refused: %s", command.job_id, report.component, failure
            )

    @workflow.signal
    def start_task(self, command: StartTask) -> None:
        self._starts.append(command)

    @workflow.signal
    def stop_task(self, command: StopTask) -> None:
        self._stops.append(command)

    @workflow.signal
    def finish(self, status: JobStatus) -> None:
        self._finished = status

    @workflow.query
    def running_tasks(self) -> list[str]:
        return [f"{c}:{v}" for (c, v), t in self._running.items() if not t.done()]
