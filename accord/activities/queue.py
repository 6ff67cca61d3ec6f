"""The activities of the site's job queue, and the check the job workflow makes of its search attributes."""

from __future__ import annotations

import logging

from temporalio import activity
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError

from accord.activities.edge import coded_errors
from accord.contracts import (
    ENQUEUE,
    QUEUE_WORKFLOW,
    SEARCH_ATTRIBUTE_TYPES,
    Enqueue,
    QueueState,
    queue_workflow_id,
)

log = logging.getLogger(__name__)


class QueueActivities:
    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue
        self._attributes_ready = False
        self._warned = False

    @activity.defn(name="enqueue_job")
    @coded_errors
    async def enqueue_job(self, request: Enqueue) -> None:
        # Starts the queue on first use; otherwise only delivers the signal to the running queue.
        await self._client.start_workflow(
            QUEUE_WORKFLOW,
            QueueState(max_concurrent_jobs=request.max_concurrent_jobs),
            id=queue_workflow_id(self._task_queue),
            task_queue=self._task_queue,
            start_signal=ENQUEUE,
            start_signal_args=[request],
        )

    @activity.defn(name="search_attributes_ready")
    @coded_errors
    async def search_attributes_ready(self) -> bool:
        """Whether this namespace has Accord's search attributes, so the job workflow may set them.

        A workflow setting an unregistered attribute would fail every workflow task and wedge its job;
        without them a job runs as before and only the UI's filters lack it. Missing attributes are
        logged once per worker; found ones are not asked for again.
        """
        if self._attributes_ready:
            return True
        try:
            reply = await self._client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace=self._client.namespace)
            )
        except RPCError as error:
            self._warn(f"could not list them ({error.message})")
            return False
        registered = {**reply.custom_attributes, **reply.system_attributes}
        missing = [name for name in SEARCH_ATTRIBUTE_TYPES if name not in registered]
        if missing:
            self._warn(f"{', '.join(missing)} not registered")
            return False
        self._attributes_ready = True
        return True

    def _warn(self, detail: str) -> None:
        if self._warned:
            return
        self._warned = True
        commands = "; ".join(
            f"temporal operator search-attribute create --namespace {self._client.namespace} "
            f"--name {name} --type {kind}"
            for name, kind in SEARCH_ATTRIBUTE_TYPES.items()
        )
        log.warning(
            "Temporal search attributes of Accord jobs: %s; jobs run without them (the web UI cannot "
            "filter by job status) until they are created: %s",
            detail,
            commands,
        )
