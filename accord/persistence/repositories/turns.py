"""Older jobs keep their turn for an engine's cores.

Without turns, a job whose parties need many cores at once can wait for ever while younger, smaller
jobs keep taking the cores that are freed. So a party whose application is refused records when
(``JobRow.cores_refused_at``) and what it asked for (``cores`` and the engine, on its non-holding row),
and a younger job is granted only what leaves enough for every older job still asking: backfill is
allowed when both fit. A job keeps its turn only while it keeps asking (see :data:`TURN_KEPT_S`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.persistence.orm import JobRow
from accord.status import JobStatus

TURN_KEPT_S = 75.0
"""How long a refusal keeps its job's turn. The job workflow asks again at most every 30 s
(``RESOURCE_RETRY_MAX_S``); the slack covers a slow round of applications. A job that stopped asking
(its workflow ended or was paused without reaching this site) loses its turn after this long."""

# Ended and paused jobs wait for nothing: a paused job gives up its cores and its place in the queue.
_NOT_WAITING = sorted({s.value for s in JobStatus if s.is_end} | {JobStatus.PAUSED.value})


@dataclass(frozen=True)
class Ahead:
    """The older jobs an application must leave room for."""

    oldest_job_id: str
    cores: int
    """What all of them still need on the engine, together."""


def waiting_ahead(
    session: Session,
    job_id: str,
    engine_type: str,
    engine_name: str,
    *,
    now: datetime,
    total_cores: int,
) -> Ahead | None:
    """The jobs older than ``job_id`` that still wait for cores on this engine, or None.

    A job waits when one of its party rows here was refused within :data:`TURN_KEPT_S` and neither
    holds cores nor has ended. What it needs is the cores every one of its non-holding rows here asked
    for, including a party that was granted and gave its cores back because another party was
    refused (the job workflow reserves all parties or none). A job that needs more than the engine
    has in total could never run, so it holds no one back.
    """
    waiting_rows = [
        JobRow.job_id < job_id,
        JobRow.engine_type == engine_type,
        JobRow.engine_name == engine_name,
        JobRow.resource_in_use.is_(False),
        JobRow.status.not_in(_NOT_WAITING),
    ]
    asking = select(JobRow.job_id).where(
        *waiting_rows, JobRow.cores_refused_at >= now - timedelta(seconds=TURN_KEPT_S)
    )
    needs = (
        select(JobRow.job_id, func.sum(JobRow.cores))
        .where(*waiting_rows, JobRow.job_id.in_(asking))
        .group_by(JobRow.job_id)
        .order_by(JobRow.job_id)
    )
    fitting = [(older, int(need)) for older, need in session.execute(needs) if 0 < int(need) <= total_cores]
    if not fitting:
        return None
    return Ahead(oldest_job_id=fitting[0][0], cores=sum(need for _, need in fitting))
