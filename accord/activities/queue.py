"""The activity that puts a job in its site's queue (signal-with-start of the queue workflow)."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client

from accord.activities.messages import Enqueue
from accord.workflows.queue import JobQueueWorkflow, QueueState, queue_workflow_id


class QueueActivities:
    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    @activity.defn(name="enqueue_job")
    async def enqueue_job(self, request: Enqueue) -> None:
        # Starts the queue on first use; otherwise only delivers the signal to the running queue.
        await self._client.start_workflow(
            JobQueueWorkflow.run,
            QueueState(max_concurrent_jobs=request.max_concurrent_jobs),
            id=queue_workflow_id(self._task_queue),
            task_queue=self._task_queue,
            start_signal="enqueue",
            start_signal_args=[request],
        )
