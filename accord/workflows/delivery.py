"""Telling the parties a job's end could not reach, once their sites are back.

A job ends at once on every party that can be reached; the parties whose site is down get their
cores returned and the job's end status by this workflow, which the job workflow starts as an
abandoned child just before it closes, and which retries each party until it answers or the job's
timeout has passed. The ending party's own workflow then stops whatever still runs there.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from accord import contracts
    from accord.contracts import JobEndDelivery
    from accord.identity import Party

DELIVERY_ATTEMPT_TIMEOUT = timedelta(seconds=60)
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=15)
)


def delivery_workflow_id(job_id: str, job_run_id: str) -> str:
    # Per run of the job workflow: a rerun that ends while an earlier delivery still waits gets its own.
    return f"{job_id}-end-{job_run_id}"


class JobEndInput(BaseModel):
    end: JobEndDelivery
    within_s: int


@workflow.defn(name="JobEndDelivery")
class JobEndDeliveryWorkflow:
    @workflow.run
    async def run(self, job: JobEndInput) -> list[Party]:
        """The parties that never answered within ``within_s``."""
        outcomes = await asyncio.gather(*(self._deliver(job, party) for party in job.end.parties))
        return [party for party in outcomes if party is not None]

    async def _deliver(self, job: JobEndInput, party: Party) -> Party | None:
        try:
            await workflow.execute_activity(
                contracts.deliver_job_end,
                args=[job.end, party],
                start_to_close_timeout=DELIVERY_ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=timedelta(seconds=max(job.within_s, 60)),
                retry_policy=DELIVERY_RETRY,
            )
        except ActivityError as failure:
            workflow.logger.warning(
                "job %s: %s was never told how the job ended: %s", job.end.job_id, party, failure.cause
            )
            return party
        return None
