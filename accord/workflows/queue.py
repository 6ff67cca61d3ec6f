"""The site's FIFO job queue: admits at most ``max_concurrent_jobs`` running jobs at a time.

One long-lived workflow per site. Job workflows enqueue themselves (signal-with-start from an
activity), wait for an ``admitted`` signal, and release their slot on every exit path.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from accord.contracts import (
        ADMITTED,
        ENQUEUE,
        QUEUE_WORKFLOW,
        RELEASE,
        Enqueue,
        QueueState,
        queue_workflow_id,
    )

__all__ = ["JobQueueWorkflow", "QueueState", "queue_workflow_id"]


# Events after which the queue starts afresh (continue-as-new) with its state.
HISTORY_LIMIT = 4000


@workflow.defn(name=QUEUE_WORKFLOW)
class JobQueueWorkflow:
    def __init__(self) -> None:
        self._state = QueueState()
        self._changed = False

    @workflow.run
    async def run(self, state: QueueState) -> None:
        # Signals that came with the start (signal-with-start) were handled before run began.
        early, self._state = self._state, state
        for job_id in early.waiting:
            if job_id not in state.waiting and job_id not in state.running:
                state.waiting.append(job_id)
        self._changed = True
        while True:
            await workflow.wait_condition(lambda: self._changed)
            self._changed = False
            await self._admit()
            info = workflow.info()
            if info.get_current_history_length() > HISTORY_LIMIT or info.is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._state)

    async def _admit(self) -> None:
        while self._state.waiting and len(self._state.running) < self._state.max_concurrent_jobs:
            # Job ids start with their submit time, so the smallest waiting id was submitted first,
            # whichever job's enqueue signal happened to arrive first.
            job_id = min(self._state.waiting)
            self._state.waiting.remove(job_id)
            self._state.running.append(job_id)
            try:
                await workflow.get_external_workflow_handle(job_id).signal(ADMITTED)
            except FailureError:
                # The job workflow is gone (terminated by an operator): its slot is free again.
                self._state.running.remove(job_id)

    @workflow.signal(name=ENQUEUE)
    def enqueue(self, request: Enqueue) -> None:
        self._state.max_concurrent_jobs = request.max_concurrent_jobs
        if request.job_id not in self._state.waiting and request.job_id not in self._state.running:
            self._state.waiting.append(request.job_id)
        self._changed = True

    @workflow.signal(name=RELEASE)
    def release(self, job_id: str) -> None:
        for queue in (self._state.waiting, self._state.running):
            if job_id in queue:
                queue.remove(job_id)
        self._changed = True

    @workflow.query
    def snapshot(self) -> QueueState:
        return self._state
