"""Who may say what about a job on this site: its parties, and for steering commands its initiator.

The federation server has already checked that the envelope's source party is one the caller's
certificate names; what is checked here is that this party may send this command about this job.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from accord.errors import NotAPartyOfJob, PartyImpersonation, PermissionDenied, RecordNotFound
from accord.federation.dataplane import JobMembers
from accord.identity import Party
from accord.persistence import JobRepository

log = logging.getLogger(__name__)

_CACHE_SIZE = 4096


@dataclass(frozen=True)
class JobParties:
    parties: frozenset[tuple[str, int]]
    initiator: Party


def refuse(
    error: type[PermissionDenied], command: str, job_id: str, source: Party, why: str, hint: str
) -> PermissionDenied:
    """The error to raise for a refused command, logged with who sent what about which job."""
    log.warning("refused %s for job %s from %s: %s", command, job_id, source, why)
    return error(f"{command} for job {job_id} from {source} refused: {why}", hint=hint, job_id=job_id)


class JobAccess:
    def __init__(self, jobs: JobRepository) -> None:
        self._jobs = jobs
        # Job id → its parties and initiator; neither ever changes, so an entry never goes stale.
        self._known: OrderedDict[str, JobParties] = OrderedDict()

    async def parties_of(self, job_id: str) -> JobParties | None:
        """The job's parties and initiator, from its rows here; None when it has none here."""
        known = self._known.get(job_id)
        if known is not None:
            self._known.move_to_end(job_id)
            return known
        records = await asyncio.to_thread(self._jobs.parties, job_id)
        record = next((record for record in records if record.plan), None)
        if record is None or record.plan is None:
            return None
        known = JobParties(
            parties=frozenset(
                (role, int(party_id)) for role, ids in record.plan["roles"].items() for party_id in ids
            ),
            initiator=Party(role=record.initiator_role, party_id=record.initiator_party_id),
        )
        self._known[job_id] = known
        if len(self._known) > _CACHE_SIZE:
            self._known.popitem(last=False)
        return known

    async def members(self, job_id: str) -> JobMembers | None:
        """For the data plane: who may send the job's values, and which of its parties here still read."""
        job = await self.parties_of(job_id)
        if job is None:
            return None
        statuses = await asyncio.to_thread(self._jobs.statuses, job_id)
        return JobMembers(
            parties=job.parties,
            open_here=frozenset(party for party, status in statuses.items() if not status.is_end),
        )

    async def authorize(
        self,
        command: str,
        job_id: str,
        source: Party,
        target: Party | None = None,
        *,
        initiator_only: bool = True,
        missing_ok: bool = False,
    ) -> bool:
        """Whether the job is known here; refuses a sender the job does not allow to send ``command``.

        A site acts only on jobs it is a party of, only at the word of that job's parties, and on
        commands that steer the job only at the word of its initiator. ``target`` is the party the
        command is about, which must be one of the job's too. With ``missing_ok`` an unknown job
        answers False (nothing to do) instead of RecordNotFound.
        """
        job = await self.parties_of(job_id)
        if job is None:
            if missing_ok:
                return False
            raise RecordNotFound(
                f"job {job_id} is not known on this site",
                hint="the job may not have been created here yet, or was created on another site",
                job_id=job_id,
            )
        if (source.role, source.party_id) not in job.parties:
            raise refuse(
                NotAPartyOfJob,
                command,
                job_id,
                source,
                f"{source} is not a party of job {job_id}",
                "only the parties named in a job's runtime conf may act on it",
            )
        if target is not None and (target.role, target.party_id) not in job.parties:
            raise refuse(
                NotAPartyOfJob,
                command,
                job_id,
                source,
                f"{target} is not a party of job {job_id}",
                "address commands to the job's own parties",
            )
        if initiator_only and source != job.initiator:
            raise refuse(
                PartyImpersonation,
                command,
                job_id,
                source,
                f"only the job's initiator {job.initiator} may send it",
                "a job is steered by its initiator alone; other parties report their own tasks",
            )
        return True
