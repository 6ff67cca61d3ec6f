"""What the workflows and the activities agree on, so that neither package imports the other.

- The activities, by definition: each is declared here once, by name and signature; the workflows call
  these declarations (``workflow.execute_activity(contracts.run_task, ...)``) and the worker registers
  the implementations of :mod:`accord.activities` under the same names (a test checks that every
  implementation matches its declaration).
- Their arguments: Temporal payloads, so small values and references only.
- The signals one workflow sends another (by name, as the receiving workflow declares it) and the
  error types an activity fails with that a workflow tells apart.
- The site's job queue, which an activity starts and the job workflows signal.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity
from temporalio.common import SearchAttributeKey

from accord.federation.commands import ResourceReply, ReuseOffer
from accord.identity import Party, ReuseCandidate, TaskReport
from accord.status import JobStatus, TaskStatus

# ---- error types the workflows tell apart -------------------------------------------------------

# A component raised: its task failed for good (no retry), and its activity reported it already.
# (The job decides what follows: auto_retries, a new version.)
COMPONENT_FAILURE = "ComponentFailure"
# The worker running a task was lost mid-run: the job runs the task again under a new version.
RUN_LOST = "RunLost"

# ---- signals ------------------------------------------------------------------------------------

# The job queue admits a job (queue -> job workflow).
ADMITTED = "admitted"
# A job joins the queue (signal-with-start from the enqueue activity) or leaves it (job workflow).
ENQUEUE = "enqueue"
RELEASE = "release"

# ---- what the Temporal web UI filters jobs by ----------------------------------------------------

JOB_STATUS = SearchAttributeKey.for_keyword("AccordJobStatus")
INITIATOR = SearchAttributeKey.for_keyword("AccordInitiator")
PARTIES = SearchAttributeKey.for_keyword_list("AccordParties")
MODULES = SearchAttributeKey.for_keyword_list("AccordModules")

# Name and type as `temporal operator search-attribute create --name N --type T` and the dev server's
# `--search-attribute N=T` spell them.
SEARCH_ATTRIBUTE_TYPES: dict[str, str] = {
    JOB_STATUS.name: "Keyword",
    INITIATOR.name: "Keyword",
    PARTIES.name: "KeywordList",
    MODULES.name: "KeywordList",
}

# ---- the site's job queue -----------------------------------------------------------------------

QUEUE_WORKFLOW = "JobQueue"


def queue_workflow_id(task_queue: str) -> str:
    """One queue per site; a site is identified by its task queue."""
    return f"accord-job-queue-{task_queue}"


class QueueState(BaseModel):
    max_concurrent_jobs: int = 5
    waiting: list[str] = Field(default_factory=list)
    running: list[str] = Field(default_factory=list)


# ---- payloads -----------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JobParties(_Frozen):
    job_id: str
    initiator: Party
    parties: tuple[Party, ...]


class TaskFanout(_Frozen):
    job_id: str
    component: str
    task_version: int
    parties: tuple[Party, ...]
    # For stops: the status the stopped tasks end with.
    status: TaskStatus = TaskStatus.CANCELED
    # For starts: the earlier run every party agreed to take the outputs of instead of running.
    reuse_from: ReuseCandidate | None = None


class ReuseProbe(_Frozen):
    """Ask each party which earlier runs of ``component`` it could reuse for this job's task."""

    job_id: str
    component: str
    parties: tuple[Party, ...]


class JobStatusFanout(_Frozen):
    job_id: str
    parties: tuple[Party, ...]
    status: JobStatus
    reason: str = ""


class JobEndDelivery(_Frozen):
    """A job's end, for the parties it could not reach when it ended."""

    job_id: str
    initiator: Party
    parties: tuple[Party, ...]
    # Of those, the parties that still hold cores for the job.
    held: tuple[Party, ...]
    status: JobStatus
    reason: str = ""


class ResourceClaim(_Frozen):
    party: Party
    engine: str
    cores: int


class ResourceClaims(_Frozen):
    job_id: str
    claims: tuple[ResourceClaim, ...]


class StatusQuery(_Frozen):
    job_id: str
    parties: tuple[Party, ...]
    components: tuple[str, ...] = ()


class RunTask(_Frozen):
    job_id: str
    party: Party
    component: str
    task_version: int
    initiator: Party
    push: bool
    # Take this earlier run's outputs instead of running the component (every party agreed to).
    reuse_from: ReuseCandidate | None = None


class ReportTask(_Frozen):
    report: TaskReport
    initiator: Party
    push: bool


class Enqueue(_Frozen):
    job_id: str
    max_concurrent_jobs: int


# ---- the activities -----------------------------------------------------------------------------
# Declarations only: the worker runs the implementations in accord.activities under these names.


@activity.defn(name="create_job_on_parties")
async def create_job_on_parties(job: JobParties) -> None:
    raise NotImplementedError


@activity.defn(name="apply_resources")
async def apply_resources(request: ResourceClaims, source: Party) -> list[ResourceReply]:
    raise NotImplementedError


@activity.defn(name="return_resources")
async def return_resources(job: JobParties) -> list[Party]:
    raise NotImplementedError


@activity.defn(name="start_tasks")
async def start_tasks(fanout: TaskFanout, source: Party) -> None:
    raise NotImplementedError


@activity.defn(name="stop_tasks")
async def stop_tasks(fanout: TaskFanout, source: Party) -> list[Party]:
    raise NotImplementedError


@activity.defn(name="update_job_status")
async def update_job_status(fanout: JobStatusFanout, source: Party) -> list[Party]:
    raise NotImplementedError


@activity.defn(name="deliver_job_end")
async def deliver_job_end(end: JobEndDelivery, party: Party) -> None:
    raise NotImplementedError


@activity.defn(name="query_task_status")
async def query_task_status(query: StatusQuery, source: Party) -> list[TaskReport]:
    raise NotImplementedError


@activity.defn(name="probe_reuse")
async def probe_reuse(probe: ReuseProbe, source: Party) -> list[ReuseOffer]:
    raise NotImplementedError


@activity.defn(name="enqueue_job")
async def enqueue_job(request: Enqueue) -> None:
    raise NotImplementedError


@activity.defn(name="search_attributes_ready")
async def search_attributes_ready() -> bool:
    raise NotImplementedError


@activity.defn(name="run_task")
async def run_task(task: RunTask) -> None:
    raise NotImplementedError


@activity.defn(name="report_task")
async def report_task(request: ReportTask) -> None:
    raise NotImplementedError


DECLARED = (
    create_job_on_parties,
    apply_resources,
    return_resources,
    start_tasks,
    stop_tasks,
    update_job_status,
    deliver_job_end,
    query_task_status,
    probe_reuse,
    enqueue_job,
    search_attributes_ready,
    run_task,
    report_task,
)
