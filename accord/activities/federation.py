"""Activities of the initiator's job workflow: commands to every party, over federation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from temporalio import activity

from accord.activities.edge import application_error, coded_errors
from accord.contracts import (
    JobEndDelivery,
    JobParties,
    JobStatusFanout,
    ResourceClaims,
    ReuseProbe,
    StatusQuery,
    TaskFanout,
)
from accord.dsl_compiler.plan import JobPlan
from accord.errors import AccordError
from accord.federation.client import FederationClient
from accord.federation.commands import (
    ApplyResource,
    CreateJob,
    ProbeReuse,
    QueryStatus,
    ResourceReply,
    ReturnResource,
    ReuseOffer,
    StartTask,
    StopTask,
    UpdateJobStatus,
)
from accord.identity import Party, TaskReport, task_id
from accord.persistence import JobRepository

T = TypeVar("T")

log = logging.getLogger(__name__)


def command_request_id(party: Party, suffix: str = "") -> str:
    """A federation request id stable across Temporal's retries of the calling activity.

    A retried command is then recognised by the receiving site and answered once.
    """
    info = activity.info()
    return (
        f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}/{party.role}-{party.party_id}{suffix}"
    )


async def _answer(party: Party, command: str, reply: Awaitable[T]) -> T:
    """The party's reply; its coded error fails the activity naming the party and the command.

    A permanent refusal (a non-retryable code) then fails the activity at once instead of being asked
    again until the job's timeout.
    """
    try:
        return await reply
    except AccordError as error:
        raise application_error(error, context=f"{command} to {party}") from None


async def _each(parties: Iterable[Party], command: str, call: Callable[[Party], Awaitable[T]]) -> list[T]:
    return list(await asyncio.gather(*(_answer(p, command, call(p)) for p in parties)))


def _party_budget_s() -> float:
    # Each party's call must give up inside the activity's own deadline, so the activity can still
    # answer which parties it reached.
    limit = activity.info().start_to_close_timeout
    return max((limit.total_seconds() if limit else 30.0) * 0.8, 1.0)


async def _each_reachable(
    parties: Iterable[Party], call: Callable[[Party], Awaitable[object]]
) -> list[Party]:
    """Send to every party, each on its own; the parties that could not be reached, in order.

    For the commands that end a job: a party whose site is gone must not keep the others from being
    told, nor the job from ending.
    """
    budget = _party_budget_s()

    async def attempt(party: Party) -> Party | None:
        try:
            await asyncio.wait_for(call(party), timeout=budget)
        except (AccordError, TimeoutError) as error:
            log.warning("job command to %s failed: %s", party, error)
            return party
        return None

    outcomes = await asyncio.gather(*(attempt(p) for p in parties))
    return [party for party in outcomes if party is not None]


class FederationActivities:
    def __init__(self, client: FederationClient, jobs: JobRepository) -> None:
        self._client = client
        self._jobs = jobs

    @activity.defn(name="create_job_on_parties")
    @coded_errors
    async def create_job_on_parties(self, job: JobParties) -> None:
        # The submitting site stored dsl, conf and plan with the initiator's row; the workflow only
        # carries the job id, so large plans never ride in its history.
        source = job.initiator
        record = await asyncio.to_thread(self._jobs.get, job.job_id, source.role, source.party_id)
        plan = JobPlan.model_validate(record.plan)
        await _each(
            job.parties,
            "CreateJob",
            lambda p: self._client.create_job(
                CreateJob(
                    job_id=job.job_id,
                    party=p,
                    initiator=source,
                    dsl=record.dsl,
                    runtime_conf=record.runtime_conf,
                    plan=plan,
                ),
                source=source,
                request_id=command_request_id(p),
            ),
        )

    @activity.defn(name="apply_resources")
    @coded_errors
    async def apply_resources(self, request: ResourceClaims, source: Party) -> list[ResourceReply]:
        """Ask every party at once; the workflow returns what was granted if any party refuses."""
        return list(
            await asyncio.gather(
                *(
                    _answer(
                        claim.party,
                        "ApplyResource",
                        self._client.apply_resource(
                            ApplyResource(
                                job_id=request.job_id,
                                party=claim.party,
                                engine_name=claim.engine,
                                cores=claim.cores,
                            ),
                            source=source,
                            request_id=command_request_id(claim.party),
                        ),
                    )
                    for claim in request.claims
                )
            )
        )

    @activity.defn(name="return_resources")
    @coded_errors
    async def return_resources(self, job: JobParties) -> list[Party]:
        """Return every party's cores (each return is idempotent); the parties not reached."""
        return await _each_reachable(
            reversed(job.parties),
            lambda party: self._client.return_resource(
                ReturnResource(job_id=job.job_id, party=party),
                source=job.initiator,
                request_id=command_request_id(party),
            ),
        )

    @activity.defn(name="start_tasks")
    @coded_errors
    async def start_tasks(self, fanout: TaskFanout, source: Party) -> None:
        await _each(
            fanout.parties,
            "StartTask",
            lambda p: self._client.start_task(
                StartTask(
                    job_id=fanout.job_id,
                    party=p,
                    component=fanout.component,
                    task_id=task_id(fanout.job_id, fanout.component),
                    task_version=fanout.task_version,
                    reuse_from=fanout.reuse_from,
                ),
                source=source,
                request_id=command_request_id(p),
            ),
        )

    @activity.defn(name="stop_tasks")
    @coded_errors
    async def stop_tasks(self, fanout: TaskFanout, source: Party) -> list[Party]:
        return await _each_reachable(
            fanout.parties,
            lambda p: self._client.stop_task(
                StopTask(
                    job_id=fanout.job_id,
                    party=p,
                    component=fanout.component,
                    task_version=fanout.task_version,
                    status=fanout.status,
                ),
                source=source,
                request_id=command_request_id(p),
            ),
        )

    @activity.defn(name="update_job_status")
    @coded_errors
    async def update_job_status(self, fanout: JobStatusFanout, source: Party) -> list[Party]:
        return await _each_reachable(
            fanout.parties,
            lambda p: self._client.update_job_status(
                UpdateJobStatus(job_id=fanout.job_id, party=p, status=fanout.status, reason=fanout.reason),
                source=source,
                request_id=command_request_id(p),
            ),
        )

    @activity.defn(name="deliver_job_end")
    @coded_errors
    async def deliver_job_end(self, end: JobEndDelivery, party: Party) -> None:
        """Return the party's cores and tell it the job's end; retried until it answers.

        A refusal is not retried: the party answered, and asking again cannot change its answer.
        """
        if party in end.held:
            await _answer(
                party,
                "ReturnResource",
                self._client.return_resource(
                    ReturnResource(job_id=end.job_id, party=party),
                    source=end.initiator,
                    request_id=command_request_id(party, "/return"),
                ),
            )
        await _answer(
            party,
            "UpdateJobStatus",
            self._client.update_job_status(
                UpdateJobStatus(job_id=end.job_id, party=party, status=end.status, reason=end.reason),
                source=end.initiator,
                request_id=command_request_id(party, "/status"),
            ),
        )

    @activity.defn(name="query_task_status")
    @coded_errors
    async def query_task_status(self, query: StatusQuery, source: Party) -> list[TaskReport]:
        replies = await _each(
            query.parties,
            "QueryStatus",
            lambda p: self._client.query_status(
                QueryStatus(job_id=query.job_id, party=p, components=query.components),
                source=source,
                request_id=command_request_id(p),
            ),
        )
        return [report for reply in replies for report in reply.tasks]

    @activity.defn(name="probe_reuse")
    @coded_errors
    async def probe_reuse(self, probe: ReuseProbe, source: Party) -> list[ReuseOffer]:
        """Every party's offer, in the probe's order; a party that cannot answer offers nothing.

        Reuse is an optimisation: a party away, or refusing, only means the task runs.
        """
        budget = _party_budget_s()

        async def offer(party: Party) -> ReuseOffer:
            try:
                return await asyncio.wait_for(
                    self._client.probe_reuse(
                        ProbeReuse(job_id=probe.job_id, party=party, component=probe.component),
                        source=source,
                        request_id=command_request_id(party),
                    ),
                    timeout=budget,
                )
            except (AccordError, TimeoutError) as error:
                log.warning("reuse probe of %s for %s failed: %s", party, probe.component, error)
                return ReuseOffer(party=party)

        return list(await asyncio.gather(*(offer(p) for p in probe.parties)))
