"""FATE-Flow 1.11 endpoints that ``flow`` commands call and the other routers lack.

Resources (``/v1/resource/query|return``), installed components (``/v1/provider/get``), recent tasks
(``/v1/job/list/task``), versions (``/v1/server/version/get``), a component's summary, output-data
table and metric deletion (``/v1/tracking/component/...``), upload history (``/v1/data/upload/history``)
and table bind (``/v1/table/bind``). Tags are in :mod:`accord.api.tags`. Job-scoped answers cover
only the parties this site hosts.
"""

from __future__ import annotations

import asyncio
import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import Field

from accord import __version__
from accord.api.schemas import ComponentName, Envelope, JobId, PartyId, Role, TaskRow, _Body
from accord.components.registry import ComponentRegistry
from accord.components.sdk import layout
from accord.dsl_compiler.plan import JobPlan
from accord.errors import ArgumentError, RecordNotFound
from accord.model_store import ModelService
from accord.persistence import (
    Database,
    JobRepository,
    MetricRepository,
    ResourceRepository,
    TaskRepository,
)
from accord.settings import Settings
from accord.site.bind import bind_table
from accord.storage import TableStore

if TYPE_CHECKING:
    from accord.server import Site

# The FATE release whose commands, flags and envelopes this API follows.
FATE_COMPAT = "1.11.4"


@dataclass(frozen=True)
class FlowServices:
    settings: Settings
    database: Database
    registry: ComponentRegistry
    tables: TableStore
    models: ModelService | None = None

    @classmethod
    def of(cls, site: Site) -> FlowServices:
        return cls(site.settings, site.database, site.registry, site.tables, site.models)


class JobBody(_Body):
    job_id: JobId


class TaskListBody(_Body):
    limit: int = Field(default=10, ge=1, le=10_000)
    job_id: JobId | None = None
    status: str | None = Field(default=None, max_length=32)


class ComponentBody(_Body):
    job_id: JobId
    role: Role
    party_id: PartyId
    component_name: ComponentName


class MetricDeleteBody(_Body):
    job_id: JobId | None = None
    date: str | None = Field(default=None, pattern=r"^\d{8}$", description="a day, YYYYMMDD (FATE's -d)")


class HistoryBody(_Body):
    limit: int = Field(default=10, ge=1, le=10_000)
    job_id: str | None = Field(default=None, max_length=128)


class BindBody(_Body):
    model_config = {"extra": "allow"}
    drop: int = 0


def _check_party(settings: Settings, party_id: int) -> None:
    if not settings.hosts_party(party_id):
        raise RecordNotFound(
            f"party {party_id} is not hosted by this site", hint="ask the site that hosts the party"
        )


def _engine_dict(record: Any) -> dict[str, Any]:
    return {
        "f_engine_type": record.engine_type,
        "f_engine_name": record.engine_name,
        "f_cores": record.total_cores,
        "f_remaining_cores": record.remaining_cores,
        "f_nodes": record.nodes,
        "f_engine_config": {
            "nodes": record.nodes,
            "cores_per_node": record.total_cores // max(record.nodes, 1),
        },
        "f_create_time": int(record.create_time.timestamp() * 1000),
        "f_update_time": int(record.update_time.timestamp() * 1000),
    }


def _installed(registry: ComponentRegistry) -> dict[str, Any]:
    """Each installed module with the distribution that provides it, as ``flow provider list`` shows."""
    providers: dict[str, dict[str, Any]] = {}
    by_module: dict[str, str] = {}
    for point in metadata.entry_points(group="accord.components"):
        dist = point.dist
        if dist is not None:
            by_module[point.name] = f"{dist.name}@{dist.version}"
    for module in sorted(registry.modules()):
        name, _, version = by_module.get(module, f"accord@{__version__}").partition("@")
        entry = providers.setdefault(name, {}).setdefault(version, {"components": []})
        entry["components"].append(module)
    return providers


def flow_router(flow: FlowServices, errors: dict[int | str, dict[str, Any]]) -> APIRouter:
    router = APIRouter(prefix="/v1", responses=errors)
    db, settings = flow.database, flow.settings
    resources, jobs, tasks = ResourceRepository(db), JobRepository(db), TaskRepository(db)
    metrics = MetricRepository(db)

    @router.post("/resource/query")
    async def resource_query() -> Envelope[dict[str, Any]]:
        """The site's computing engine and its free cores, and the jobs holding cores now."""

        def read() -> dict[str, Any]:
            engines = [_engine_dict(e) for e in resources.engines()]
            holders = [{"job_id": j, "role": r, "party_id": p} for j, r, p in resources.holders()]
            main = next((e for e in engines if e["f_engine_type"] == "computing"), None)
            return {"computing_engine_resource": main, "engines": engines, "use_resource_job": holders}

        return Envelope(data=await asyncio.to_thread(read))

    @router.post("/resource/return")
    async def resource_return(body: JobBody) -> Envelope[list[dict[str, Any]]]:
        """Give back the cores a job's parties on this site hold (a job wedged outside Accord)."""

        def give_back() -> list[dict[str, Any]]:
            rows = [r for r in jobs.parties(body.job_id) if settings.hosts_party(r.party_id)]
            if not rows:
                raise RecordNotFound(f"job {body.job_id} has no party on this site", job_id=body.job_id)
            out = []
            for row in rows:
                returned = resources.return_resource(body.job_id, row.role, row.party_id)
                out.append(
                    {
                        "job_id": body.job_id,
                        "role": row.role,
                        "party_id": str(row.party_id),
                        "resource_in_use": returned,
                        "resource_return_status": returned,
                    }
                )
            return out

        return Envelope(data=await asyncio.to_thread(give_back), jobId=body.job_id)

    @router.post("/provider/get")
    async def providers() -> Envelope[dict[str, Any]]:
        """The installed components by providing package and version: what a job may use here."""
        return Envelope(data=_installed(flow.registry))

    @router.post("/job/list/task")
    async def task_list(body: TaskListBody) -> Envelope[dict[str, Any]]:
        """The newest task versions on this site's parties, newest first."""

        def read() -> list[TaskRow]:
            found = tasks.recent(limit=body.limit, job_id=body.job_id, status=body.status)
            return [TaskRow.of(t) for t in found if settings.hosts_party(t.key.party_id)]

        rows = await asyncio.to_thread(read)
        return Envelope(data={"tasks": [r.model_dump() for r in rows], "count": len(rows)})

    @router.post("/server/version/get")
    async def versions() -> Envelope[dict[str, str]]:
        """Accord's version, the FATE release it follows, and its runtime's."""
        data = {"accord": __version__, "FATE": FATE_COMPAT, "Python": platform.python_version()}
        for package in ("temporalio", "fastapi", "pyarrow"):
            try:
                data[package] = metadata.version(package)
            except metadata.PackageNotFoundError:
                continue
        return Envelope(data=data)

    def plan_of(body: ComponentBody) -> JobPlan:
        _check_party(settings, body.party_id)
        record = jobs.get(body.job_id, body.role, body.party_id)
        if record.plan is None:
            raise RecordNotFound(f"job {body.job_id} has no plan on {body.role} {body.party_id}")
        plan = JobPlan.model_validate(record.plan)
        names = plan.party(body.role, body.party_id).components
        if body.component_name not in names:
            raise RecordNotFound(
                f"job {body.job_id} has no component {body.component_name!r} on {body.role} {body.party_id}",
                hint=f"its components there are {', '.join(names)}",
            )
        return plan

    def party_dir(body: ComponentBody) -> Path:
        return layout.party_dir(settings.home, body.job_id, body.role, body.party_id)

    @router.post("/tracking/component/summary/download")
    async def summary(body: ComponentBody) -> Envelope[dict[str, Any]]:
        """The summary the component recorded (e.g. HeteroLR's iterations and convergence)."""

        def read() -> dict[str, Any]:
            plan_of(body)
            path = layout.output_dir(party_dir(body), body.component_name) / "summary.json"
            if not path.is_file():
                raise RecordNotFound(
                    f"{body.component_name} of job {body.job_id} recorded no summary on {body.role} "
                    f"{body.party_id}",
                    hint="the component may not have run yet, or records no summary",
                )
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return loaded

        return Envelope(data=await asyncio.to_thread(read), jobId=body.job_id)

    @router.post("/tracking/component/output/data/table")
    async def output_data_table(body: ComponentBody) -> Envelope[list[dict[str, Any]]]:
        """Where each of the component's data outputs is stored on this party."""

        def read() -> list[dict[str, Any]]:
            plan = plan_of(body)
            out = []
            for name in plan.component(body.component_name).data_outputs:
                path = layout.data_path(party_dir(body), body.component_name, name)
                out.append(
                    {
                        "data_name": name,
                        "table_name": f"{body.component_name}.{name}",
                        "table_namespace": f"output_data_{body.job_id}_{body.role}_{body.party_id}",
                        "address": str(path),
                        "exists": path.exists(),
                    }
                )
            return out

        return Envelope(data=await asyncio.to_thread(read), jobId=body.job_id)

    @router.post("/tracking/component/metric/delete")
    async def metric_delete(body: MetricDeleteBody) -> Envelope[dict[str, int]]:
        """Delete a job's metrics, or those recorded on a day (``date``: YYYYMMDD)."""
        since = until = None
        if body.date is not None:
            try:
                since = datetime.strptime(body.date, "%Y%m%d").replace(tzinfo=UTC)
            except ValueError:
                raise ArgumentError(f"date {body.date!r} is not a day", hint="give -d YYYYMMDD") from None
            until = since + timedelta(days=1)
        deleted = await asyncio.to_thread(metrics.delete, job_id=body.job_id, since=since, until=until)
        return Envelope(data={"deleted": deleted}, jobId=body.job_id)

    @router.post("/data/upload/history")
    async def upload_history(body: HistoryBody) -> Envelope[list[dict[str, Any]]]:
        """The site's tables, most recently written first: each upload or bind leaves its table here."""

        def read() -> list[dict[str, Any]]:
            listed = sorted(flow.tables.list(), key=lambda t: t.update_time, reverse=True)[: body.limit]
            return [
                {
                    "table_name": t.name,
                    "namespace": t.namespace,
                    "count": t.count,
                    "partitions": t.partitions,
                    "schema": t.schema,
                    "upload_time": int(t.update_time.timestamp() * 1000),
                    "create_time": int(t.create_time.timestamp() * 1000),
                }
                for t in listed
            ]

        return Envelope(data=await asyncio.to_thread(read))

    @router.post("/table/bind")
    async def bind(body: BindBody) -> Envelope[dict[str, Any]]:
        """A Parquet or delimited-text file below the site's ``upload_roots`` becomes a table."""
        conf = dict(body.model_extra or {})
        info = await asyncio.to_thread(
            bind_table, conf, flow.tables, settings.upload_roots, drop=bool(body.drop)
        )
        data = {"table_name": info.name, "namespace": info.namespace, "count": info.count}
        return Envelope(data=data)

    return router
