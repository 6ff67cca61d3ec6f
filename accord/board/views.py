"""What the board's pages show, assembled from the site's rows, the job workflow and the model store.

Every view is limited to the parties this site hosts (``Settings.hosts_party``): in cluster mode a
site's board never shows another party's rows, parameters, metrics or model, as FATE-Board.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import Client

from accord.board.queries import BoardQueries, JobFilter
from accord.dsl_compiler import JobPlan
from accord.errors import RecordNotFound
from accord.model_store import ModelService
from accord.persistence import JobRecord, JobRepository, TaskRecord, TaskRepository
from accord.serving.registry import PublishedFile, Registry
from accord.settings import Settings
from accord.site.deploy import ModelDeployment
from accord.site.joblog import JobLog
from accord.site.progress import component_count, job_progress
from accord.status import TaskStatus
from accord.workflows.dag import combined_status
from accord.workflows.job import JobWorkflow
from accord.workflows.job_io import JobView

log = logging.getLogger(__name__)

MAX_LOG_LINES = 2000
# Ended jobs' workflow views (their components' errors) kept in memory; a replay each is not free.
_VIEW_CACHE = 256


def ms(moment: datetime | None) -> int | None:
    """Milliseconds since the epoch, as FATE-Flow's API gives times."""
    return None if moment is None else int(moment.timestamp() * 1000)


def party_key(role: str, party_id: int) -> str:
    return f"{role}:{party_id}"


class BoardViews:
    def __init__(
        self,
        settings: Settings,
        temporal: Client,
        jobs: JobRepository,
        tasks: TaskRepository,
        queries: BoardQueries,
        *,
        models: ModelService | None = None,
        deployment: ModelDeployment | None = None,
    ) -> None:
        self.settings = settings
        self._temporal = temporal
        self._jobs = jobs
        self._tasks = tasks
        self._queries = queries
        self._models = models
        self._deployment = deployment
        self._log = JobLog(settings.home)
        self._ended_views: dict[tuple[str, str], JobView | None] = {}

    @property
    def parties(self) -> tuple[int, ...]:
        return self.settings.local_party_ids

    # ---- the job list ------------------------------------------------------------------------

    def job_page(self, wanted: JobFilter, page: int, size: int) -> dict[str, Any]:
        wanted = JobFilter(**{**wanted.__dict__, "parties": self.parties})
        total, rows = self._queries.page(wanted, page=page, size=size)
        for row in rows:
            for name in ("create_time", "start_time", "end_time"):
                row[name] = ms(row[name])
        return {"total": total, "page": page, "size": size, "jobs": rows}

    def marker(self) -> str:
        return self._queries.marker(self.parties)

    # ---- one job -----------------------------------------------------------------------------

    def rows(self, job_id: str) -> list[JobRecord]:
        rows = [r for r in self._jobs.parties(job_id) if self.settings.hosts_party(r.party_id)]
        if not rows:
            raise RecordNotFound(f"no job {job_id} on this site", hint="pick a job from the job list")
        return rows

    def plan(self, rows: list[JobRecord]) -> JobPlan | None:
        stored = next((r.plan for r in rows if r.plan is not None), None)
        return None if stored is None else JobPlan.model_validate(stored)

    async def workflow_view(self, job_id: str, rows: list[JobRecord]) -> JobView | None:
        """The job workflow's own view (each component's error), also of an ended job; None if gone."""
        ended = all(r.status.is_end for r in rows)
        key = (job_id, str(max(r.update_time for r in rows)))
        if ended and key in self._ended_views:
            return self._ended_views[key]
        try:
            view: JobView | None = await self._temporal.get_workflow_handle(job_id).query(
                JobWorkflow.view, rpc_timeout=_timeout()
            )
        except Exception as error:  # any failure only means the errors are not shown
            log.debug("no workflow view of job %s: %s", job_id, error)
            view = None
        if ended:
            if len(self._ended_views) >= _VIEW_CACHE:
                self._ended_views.pop(next(iter(self._ended_views)))
            self._ended_views[key] = view
        return view

    def component_states(self, tasks: list[TaskRecord], view: JobView | None) -> dict[str, dict[str, Any]]:
        """Each component's latest version: combined status, status per party, error, earlier run reused."""
        latest: dict[str, int] = {}
        for task in tasks:
            name = task.key.component_name
            latest[name] = max(latest.get(name, 0), task.key.task_version)
        states: dict[str, dict[str, Any]] = {}
        for name, version in latest.items():
            mine = [t for t in tasks if t.key.component_name == name and t.key.task_version == version]
            states[name] = {
                "version": version,
                "status": combined_status([t.party_status for t in mine]).value,
                "party_status": {party_key(t.key.role, t.key.party_id): t.party_status.value for t in mine},
                "error": "",
                "reused_from": next((t.reused_from for t in mine if t.reused_from), ""),
            }
        if view is not None:
            for name, seen in view.components.items():
                state = states.setdefault(
                    name, {"version": 0, "status": seen.get("status"), "party_status": {}, "error": ""}
                )
                state["error"] = seen.get("error") or ""
                state["reused_from"] = state.get("reused_from") or seen.get("reused_from") or ""
                if seen.get("status") in (TaskStatus.FAILED.value, TaskStatus.TIMEOUT.value):
                    state["status"] = seen["status"]
        return states

    async def status(self, job_id: str) -> dict[str, Any]:
        """What changes while a job runs: the live part of :meth:`job`, sent on the event stream."""
        rows = await asyncio.to_thread(self.rows, job_id)
        tasks = await asyncio.to_thread(self._hosted_tasks, job_id)
        view = await self.workflow_view(job_id, rows)
        initiator = next((r for r in rows if r.is_initiator), rows[0])
        components = self.component_states(tasks, view)
        stored = next((r.plan for r in rows if r.plan is not None), None)
        total = component_count(stored, initiator.dsl, None)
        return {
            "job_id": job_id,
            "status": initiator.status.value,
            "reason": (view.reason if view is not None and view.reason else "") or initiator.status_reason,
            # As `job query` counts it: finished components, plus the running ones' own progress.
            "progress": max(initiator.progress, job_progress(tasks, total, initiator.status)),
            "ended": all(r.status.is_end for r in rows),
            # Asked to pause (pausing or paused): the board offers Resume instead of Pause.
            "pause_requested": view is not None and view.pause_requested,
            "parties": [_party_row(r) for r in rows],
            "components": components,
        }

    def _hosted_tasks(self, job_id: str) -> list[TaskRecord]:
        return [t for t in self._tasks.list_tasks(job_id) if self.settings.hosts_party(t.key.party_id)]

    async def job(self, job_id: str) -> dict[str, Any]:
        live = await self.status(job_id)
        rows = await asyncio.to_thread(self.rows, job_id)
        plan = self.plan(rows)
        initiator = next((r for r in rows if r.is_initiator), rows[0])
        hosted = [p for p in plan.parties if self.settings.hosts_party(p.party_id)] if plan else []
        return live | {
            "initiator": party_key(initiator.initiator_role, initiator.initiator_party_id),
            "dsl": initiator.dsl,
            "conf": initiator.runtime_conf,
            "model_id": initiator.model_id,
            "model_version": initiator.model_version,
            "create_time": ms(initiator.create_time),
            "start_time": ms(initiator.start_time),
            "end_time": ms(initiator.end_time),
            "elapsed_ms": initiator.elapsed_ms,
            "job_parameters": {
                party_key(p.role, p.party_id): p.job_parameters.model_dump(mode="json") for p in hosted
            },
            "dag": _dag(plan),
            "temporal_url": (
                f"{self.settings.temporal_ui_address}/namespaces/{self.settings.temporal_namespace}"
                f"/workflows/{job_id}"
            ),
        }

    # ---- one component -----------------------------------------------------------------------

    async def component(self, job_id: str, name: str) -> dict[str, Any]:
        rows = await asyncio.to_thread(self.rows, job_id)
        plan = self.plan(rows)
        if plan is None or name not in plan.order:
            raise RecordNotFound(f"job {job_id} has no component {name!r}", hint="click one in the graph")
        cpn = plan.component(name)
        tasks = await asyncio.to_thread(self._tasks.list_tasks, job_id, component_name=name)
        tasks = [t for t in tasks if self.settings.hosts_party(t.key.party_id)]
        view = await self.workflow_view(job_id, rows)
        parties = [
            {
                "role": p.role,
                "party_id": p.party_id,
                "parameters": p.component_parameters.get(name, {}),
            }
            for p in plan.parties
            if name in p.components and self.settings.hosts_party(p.party_id)
        ]
        return {
            "job_id": job_id,
            "name": name,
            "module": cpn.module,
            "upstream": list(cpn.upstream),
            "data_outputs": list(cpn.data_outputs),
            "model_outputs": list(cpn.model_outputs),
            "state": self.component_states(tasks, view).get(name),
            "parties": parties,
            "tasks": [
                {
                    "role": t.key.role,
                    "party_id": t.key.party_id,
                    "version": t.key.task_version,
                    "status": t.party_status.value,
                    "start_time": ms(t.start_time),
                    "end_time": ms(t.end_time),
                    "elapsed_ms": t.elapsed_ms,
                    "worker": t.worker_id,
                }
                for t in tasks
            ],
        }

    def log_lines(self, job_id: str, role: str, party_id: int, component: str | None) -> list[str]:
        """One party's schedule log of the job, or its lines about one component."""
        if not self.settings.hosts_party(party_id):
            raise RecordNotFound(f"party {party_id} is not hosted by this site", hint="pick a hosted party")
        self.rows(job_id)
        path = self._log.directory(job_id) / f"{role}_{party_id}" / "schedule.log"
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        if component:
            lines = [line for line in lines if f" {component} " in f"{line} " or line.endswith(component)]
        return lines[-MAX_LOG_LINES:]

    # ---- models ------------------------------------------------------------------------------

    def model_list(self) -> list[dict[str, Any]]:
        if self._models is None:
            return []
        published = _published(self.settings)
        loaded = {(e.model_id, e.model_version, e.role, e.party_id) for e in published.models}
        versions = []
        for info in self._models.list_models():
            entry = info.to_dict()
            if not self.settings.hosts_party(entry["party_id"]):
                continue
            key = (entry["model_id"], entry["model_version"])
            entry["loaded"] = (*key, entry["role"], entry["party_id"]) in loaded
            entry["bound"] = sorted(
                service for service, b in published.services.items() if (b.model_id, b.model_version) == key
            )
            entry["deployed"] = self._predict_dsl(*key) is not None
            versions.append(entry)
        return versions

    def _predict_dsl(self, model_id: str, model_version: str) -> dict[str, Any] | None:
        if self._deployment is None:
            return None
        try:
            return self._deployment.predict_dsl(model_id, model_version)
        except Exception:  # a version without a predict DSL is simply not deployed
            return None

    def predict_dsl(self, model_id: str, model_version: str) -> dict[str, Any]:
        found = self._predict_dsl(model_id, model_version)
        if found is None:
            raise RecordNotFound(
                f"model {model_id} version {model_version} is not deployed: it has no predict DSL",
                hint="deploy it with `accord model deploy`",
            )
        return found


def _timeout() -> timedelta:
    return timedelta(seconds=5)


def _published(settings: Settings) -> PublishedFile:
    try:
        return Registry(settings.home, ()).read()
    except Exception:  # a broken serving file must not hide the model list
        return PublishedFile()


def _party_row(row: JobRecord) -> dict[str, Any]:
    return {
        "role": row.role,
        "party_id": row.party_id,
        "status": row.status.value,
        "reason": row.status_reason,
        "progress": row.progress,
        "is_initiator": row.is_initiator,
        "start_time": ms(row.start_time),
        "end_time": ms(row.end_time),
        "elapsed_ms": row.elapsed_ms,
    }


def _dag(plan: JobPlan | None) -> dict[str, Any]:
    if plan is None:
        return {"components": [], "stages": []}
    return {
        "components": [
            {
                "name": c.name,
                "module": c.module,
                "upstream": list(c.upstream),
                "stage": c.stage,
                "roles": list(c.roles),
            }
            for c in plan.components
        ],
        "stages": [list(stage) for stage in plan.stages],
    }
