"""What the Temporal web UI shows of a job: search attributes, memo entries and activity summaries.

The job workflow sets four custom search attributes, so a user filters e.g. ``AccordJobStatus="failed"``;
they must be registered on the site's Temporal (see :data:`accord.contracts.SEARCH_ATTRIBUTE_TYPES`, which the
standalone dev server and the tests' servers take as ``--search-attribute`` flags). The memo needs no
registration: the job workflow lists its party workflows and how the job ended there, each party
workflow names its job workflow.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError, CancelledError

# The attributes and their registry are the contracts' (the queue activity checks them too).
from accord.contracts import INITIATOR, MODULES, PARTIES, SEARCH_ATTRIBUTE_TYPES
from accord.identity import Party
from accord.status import JobStatus
from accord.workflows.spec import JobSpec

# Workflows started before these commands existed replay without them (workflow.patched).
UI_PATCH = "accord-ui-1"

# Memo keys.
ENDING_MEMO = "accord_ending"
PARTY_WORKFLOWS_MEMO = "accord_party_workflows"
JOB_WORKFLOW_MEMO = "accord_job_workflow"

# The failure type of a job workflow that ends failed or timed out is the FATE status itself.
FAILURE_TYPES = frozenset({JobStatus.FAILED.value, JobStatus.TIMEOUT.value, JobStatus.CANCELED.value})


class JobEnding(BaseModel):
    """How the job ended, kept in the job workflow's memo whatever way the workflow closes."""

    status: JobStatus
    reason: str = ""


def parties_label(parties: Iterable[Party]) -> str:
    return ", ".join(str(p) for p in parties)


def task_summary(component: str, party: Party, version: int) -> str:
    """One task run as the UI lists it, e.g. ``hetero_lr_0 · guest 9999 · v1``."""
    return f"{component} · {party} · v{version}"


def job_attributes(spec: JobSpec) -> list[SearchAttributeUpdate[Any]]:
    """The attributes a job keeps for its whole life: initiator, parties, modules."""
    return [
        INITIATOR.value_set(str(spec.initiator)),
        PARTIES.value_set([str(p.party) for p in spec.parties]),
        MODULES.value_set(sorted({c.module for c in spec.components})),
    ]


def ending_failure(status: JobStatus, reason: str, result: BaseModel, *, canceled: bool) -> BaseException:
    """What the job workflow raises to close as the job ended (success returns its result instead).

    A job stopped by a cancel request closes canceled; any other ending fails the workflow with the
    FATE status as the failure's type and the job's result as its details (JobService.wait reads them).
    """
    if status == JobStatus.CANCELED and canceled:
        return CancelledError(reason or "stopped by request")
    return ApplicationError(
        f"job {status.value}: {reason}" if reason else f"job {status.value}",
        result,
        type=status.value,
        non_retryable=True,
    )


def dev_server_flags() -> list[str]:
    """``temporal server start-dev`` flags registering Accord's search attributes."""
    flags: list[str] = []
    for name, kind in SEARCH_ATTRIBUTE_TYPES.items():
        flags += ["--search-attribute", f"{name}={kind}"]
    return flags
