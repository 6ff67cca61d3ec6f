"""How a site answers federation commands: its read model, its resources and its workflows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from accord import __version__
from accord.errors import (
    ConnectionFailure,
    NotAPartyOfJob,
    OperatingError,
    PartyImpersonation,
    PermissionDenied,
    RecordNotFound,
    StatusTransitionError,
)
from accord.federation.commands import (
    Ack,
    ApplyResource,
    CreateJob,
    DeployModel,
    Ping,
    Pong,
    ProbeReuse,
    QueryStatus,
    ResourceReply,
    ReturnResource,
    ReuseOffer,
    StartTask,
    StatusReply,
    StopTask,
    UpdateJobStatus,
)
from accord.federation.dataplane import JobMembers
from accord.identity import Party, TaskReport
from accord.model_store import ModelStore
from accord.persistence import JobRepository, NewJob, NewTask, ResourceRepository, TaskKey, TaskRepository
from accord.settings import Settings
from accord.site.access import JobAccess, refuse
from accord.site.deploy import deploy_party_models
from accord.site.joblog import JobLog
from accord.site.reuse import ReuseService
from accord.site.transfers import TransferJanitor
from accord.status import JobStatus, TaskStatus
from accord.workflows.job import JobWorkflow
from accord.workflows.party import PartyInput, PartyWorkflow, party_workflow_id

log = logging.getLogger(__name__)

# Accord computes EGGROLL and STANDALONE jobs itself, on one pool of cores per site.
SITE_ENGINE = "STANDALONE"


# Why the initiator stops a task, by the status it is to end with (words for the schedule log).
_STOP_WHY = {
    TaskStatus.CANCELED: " (the job was stopped)",
    TaskStatus.FAILED: " (it failed on another party)",
    TaskStatus.TIMEOUT: " (the job timed out)",
}


class SiteControl:
    """The :class:`~accord.federation.server.ControlHandler` of one site."""

    def __init__(
        self,
        settings: Settings,
        temporal: Client,
        jobs: JobRepository,
        tasks: TaskRepository,
        resources: ResourceRepository,
        models: ModelStore | None = None,
        transfers: TransferJanitor | None = None,
        reuse: ReuseService | None = None,
    ) -> None:
        self._settings = settings
        # None: this site offers no earlier runs for reuse (every probe answers with none).
        self._reuse = reuse
        self.transfers = transfers or TransferJanitor(settings, jobs)
        self._models = models
        self._temporal = temporal
        self._jobs = jobs
        self._tasks = tasks
        self._resources = resources
        self._log = JobLog(settings.home)
        self._access = JobAccess(jobs)

    async def job_members(self, job_id: str) -> JobMembers | None:
        """For the data plane: see :meth:`JobAccess.members`."""
        return await self._access.members(job_id)

    def _note(self, job_id: str, party: Party, message: str) -> None:
        self._log.write(job_id, party.role, party.party_id, message)

    def _check_hosted(self, party: Party) -> None:
        if not self._settings.hosts_party(party.party_id):
            raise PermissionDenied(
                f"party {party.party_id} is not hosted by this site",
                hint="check the route table of the sending site",
            )

    async def create_job(self, command: CreateJob, source: Party) -> Ack:
        self._check_hosted(command.party)
        plan = command.plan
        for who, party in (
            ("the sender", source),
            ("the initiator", command.initiator),
            ("this party", command.party),
        ):
            if party.party_id not in plan.roles.get(party.role, ()):
                raise refuse(
                    NotAPartyOfJob,
                    "CreateJob",
                    command.job_id,
                    source,
                    f"{who}, {party}, is not one of the job's parties",
                    "a job is created by its initiator, on the parties of its runtime conf only",
                )
        if source != command.initiator:
            raise refuse(
                PartyImpersonation,
                "CreateJob",
                command.job_id,
                source,
                f"the job names {command.initiator} as initiator, but {source} sent it",
                "a job is created on its parties by its initiator only",
            )
        existing = await self._access.parties_of(command.job_id)
        if existing is not None and existing.initiator != command.initiator:
            # A job id already taken here by another initiator's job: never let it be redefined.
            raise refuse(
                PartyImpersonation,
                "CreateJob",
                command.job_id,
                source,
                f"the job exists here, initiated by {existing.initiator}",
                "job ids are unique; submit under a new one",
            )
        await asyncio.to_thread(
            self._jobs.create,
            NewJob(
                job_id=command.job_id,
                role=command.party.role,
                party_id=command.party.party_id,
                initiator_role=command.initiator.role,
                initiator_party_id=command.initiator.party_id,
                dsl=command.dsl,
                runtime_conf=command.runtime_conf,
                is_initiator=command.party == command.initiator,
                plan=plan.model_dump(mode="json"),
                model_id=plan.model_id,
                model_version=plan.model_version,
            ),
        )
        params = plan.party(command.party.role, command.party.party_id).job_parameters
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._temporal.start_workflow(
                PartyWorkflow.run,
                PartyInput(
                    job_id=command.job_id,
                    party=command.party,
                    initiator=command.initiator,
                    push=params.federated_status_collect_type == "PUSH",
                    task_timeout_s=params.timeout,
                ),
                id=party_workflow_id(command.job_id, command.party),
                task_queue=self._settings.task_queue,
                # A rerun starts the party workflow again once the previous run has closed.
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
        self._note(command.job_id, command.party, f"job created by {source}")
        return Ack()

    async def apply_resource(self, command: ApplyResource, source: Party) -> ResourceReply:
        self._check_hosted(command.party)
        await self._access.authorize("ApplyResource", command.job_id, source, command.party)
        party = command.party
        granted = await asyncio.to_thread(
            self._resources.apply, command.job_id, party.role, party.party_id, SITE_ENGINE, command.cores
        )
        if granted:
            self._note(command.job_id, party, f"applied {command.cores} cores")
            return ResourceReply(granted=True)
        record = await asyncio.to_thread(self._jobs.get, command.job_id, party.role, party.party_id)
        reason = record.status_reason or f"{party} has too few cores"
        self._note(command.job_id, party, f"resources refused: {reason}")
        return ResourceReply(granted=False, reason=reason)

    async def return_resource(self, command: ReturnResource, source: Party) -> Ack:
        self._check_hosted(command.party)
        if not await self._access.authorize(
            "ReturnResource", command.job_id, source, command.party, missing_ok=True
        ):
            return Ack(detail="no such job here")
        party = command.party
        try:
            returned = await asyncio.to_thread(
                self._resources.return_resource, command.job_id, party.role, party.party_id
            )
        except RecordNotFound:
            # The job never reached this party (it ended while being created): nothing is held here.
            return Ack(detail="no such job here")
        if returned:
            self._note(command.job_id, party, "returned resources")
        return Ack()

    async def start_task(self, command: StartTask, source: Party) -> Ack:
        self._check_hosted(command.party)
        await self._access.authorize("StartTask", command.job_id, source, command.party)
        key = TaskKey(
            command.job_id,
            command.component,
            command.task_version,
            command.party.role,
            command.party.party_id,
        )
        # The row and the signal are independent: the task's own first report creates the row too.
        await asyncio.gather(
            asyncio.to_thread(self._tasks.create, NewTask(key=key, task_id=command.task_id)),
            self._party_workflow(command.job_id, command.party).signal(PartyWorkflow.start_task, command),
        )
        reusing = f", reusing {command.reuse_from}" if command.reuse_from else ""
        self._note(
            command.job_id, command.party, f"start task {command.component} v{command.task_version}{reusing}"
        )
        return Ack()

    async def stop_task(self, command: StopTask, source: Party) -> Ack:
        self._check_hosted(command.party)
        await self._access.authorize("StopTask", command.job_id, source, command.party)
        await self._party_workflow(command.job_id, command.party).signal(PartyWorkflow.stop_task, command)
        why = _STOP_WHY.get(command.status, "")
        self._note(
            command.job_id,
            command.party,
            f"stopping task {command.component} v{command.task_version}{why}; "
            f"it ends as {command.status.value}",
        )
        return Ack()

    async def report_status(self, command: TaskReport, source: Party) -> Ack:
        if command.party != source:
            # The envelope's source is the party the sender's certificate was checked against.
            raise refuse(
                PartyImpersonation,
                "ReportStatus",
                command.job_id,
                source,
                f"it reports a task of {command.party}",
                "a party reports its own tasks only",
            )
        if not await self._access.authorize(
            "ReportStatus", command.job_id, source, initiator_only=False, missing_ok=True
        ):
            # The initiator's job workflow is not on this site: nobody here to tell.
            return Ack(detail="no such job here")
        handle = self._temporal.get_workflow_handle_for(JobWorkflow.run, command.job_id)
        await self._signal_unless_closed(
            handle.signal(JobWorkflow.task_report, command), f"job {command.job_id}"
        )
        return Ack()

    async def query_status(self, command: QueryStatus, source: Party) -> StatusReply:
        self._check_hosted(command.party)
        await self._access.authorize(
            "QueryStatus", command.job_id, source, command.party, initiator_only=False
        )
        records = await asyncio.to_thread(
            self._tasks.list_tasks, command.job_id, role=command.party.role, party_id=command.party.party_id
        )
        latest: dict[str, TaskReport] = {}
        for record in records:
            if command.components and record.key.component_name not in command.components:
                continue
            current = latest.get(record.key.component_name)
            if current is None or record.key.task_version > current.task_version:
                latest[record.key.component_name] = TaskReport(
                    job_id=command.job_id,
                    party=command.party,
                    component=record.key.component_name,
                    task_version=record.key.task_version,
                    status=record.party_status,
                    elapsed_ms=record.elapsed_ms,
                )
        return StatusReply(tasks=tuple(latest.values()))

    async def probe_reuse(self, command: ProbeReuse, source: Party) -> ReuseOffer:
        self._check_hosted(command.party)
        await self._access.authorize(
            "ProbeReuse", command.job_id, source, command.party, initiator_only=False
        )
        if self._reuse is None:
            return ReuseOffer(party=command.party)
        found = await asyncio.to_thread(
            self._reuse.candidates, command.job_id, command.party, command.component
        )
        if found:
            self._note(
                command.job_id, command.party, f"{command.component} may reuse {found[0]} (of {len(found)})"
            )
        return ReuseOffer(party=command.party, candidates=tuple(found))

    async def update_job_status(self, command: UpdateJobStatus, source: Party) -> Ack:
        self._check_hosted(command.party)
        if not await self._access.authorize(
            "UpdateJobStatus", command.job_id, source, command.party, missing_ok=True
        ):
            return Ack(detail="no such job here")
        party = command.party
        try:
            await asyncio.to_thread(
                self._jobs.update_status,
                command.job_id,
                party.role,
                party.party_id,
                command.status,
                reason=command.reason,
            )
        except StatusTransitionError as error:
            log.info("job %s on %s: %s", command.job_id, party, error)
        except RecordNotFound:
            # An end status for a job that never reached this party: nothing to record or stop.
            return Ack(detail="no such job here")
        self._note(
            command.job_id, party, f"job {command.status}" + (f": {command.reason}" if command.reason else "")
        )
        if command.status == JobStatus.WAITING and command.reason:
            await asyncio.to_thread(
                self._jobs.set_status_reason, command.job_id, party.role, party.party_id, command.reason
            )
        if command.status.is_end:
            signal = self._party_workflow(command.job_id, party).signal(PartyWorkflow.finish, command.status)
            await self._signal_unless_closed(signal, f"party workflow of {command.job_id} on {party}")
            # Its tasks have ended or are being stopped: nothing here reads the job's values any more.
            await self.transfers.job_ended(command.job_id)
        return Ack()

    async def deploy_model(self, command: DeployModel, source: Party) -> Ack:
        self._check_hosted(command.party)
        await self._access.authorize("DeployModel", command.job_id, source, command.party)
        if self._models is None:
            raise OperatingError("this site keeps no models", hint="start the site with its model store")
        party = command.party
        record = await asyncio.to_thread(self._jobs.get, command.job_id, party.role, party.party_id)
        await asyncio.to_thread(deploy_party_models, self._models, record, command)
        self._note(command.job_id, party, f"deployed as model version {command.new_version}")
        return Ack()

    async def ping(self, command: Ping, source: Party) -> Pong:
        return Pong(site_party_ids=self._settings.local_party_ids, version=__version__)

    async def _signal_unless_closed(self, signal: Awaitable[None], target: str) -> None:
        """Deliver a signal; a closed workflow (NOT_FOUND) needs none, anything else is retried."""
        try:
            await signal
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                log.info("%s has ended; signal dropped", target)
                return
            # Not an answer about the workflow: Temporal is unreachable or busy. Failing the command
            # keeps it out of the reply cache, so the sender's retry signals again.
            raise ConnectionFailure(
                f"{target} could not be signalled: Temporal did not answer ({error.message})",
                hint="the sender retries; check the site's Temporal",
            ) from None

    def _party_workflow(self, job_id: str, party: Party) -> WorkflowHandle[PartyWorkflow, JobStatus]:
        return self._temporal.get_workflow_handle_for(PartyWorkflow.run, party_workflow_id(job_id, party))
