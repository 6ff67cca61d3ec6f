"""The FastAPI application: FATE-Flow's v1 job endpoints over :class:`JobService`.

Every reply, errors included, is FATE-Flow's envelope ``{"retcode", "retmsg", "data", "jobId"}``; the
HTTP status follows the error's family (:func:`accord.errors.http_status`), so bad input is a 4xx.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException
from temporalio.service import RPCError, RPCStatusCode

from accord import __version__
from accord.api.auth import RequestAuthenticator
from accord.api.deploy import deploy_router
from accord.api.edge import EdgeMiddleware, EdgePolicy
from accord.api.flow import FlowServices, flow_router
from accord.api.grants import grant_router
from accord.api.lifecycle import lifecycle_router
from accord.api.models import model_router
from accord.api.schemas import (
    Envelope,
    ErrorEnvelope,
    JobIdBody,
    JobList,
    JobListBody,
    JobQueryBody,
    JobRow,
    ParameterUpdateBody,
    RerunBody,
    StopBody,
    SubmitBody,
    SubmitResult,
    TaskQueryBody,
    TaskRow,
    VersionData,
)
from accord.api.serving import serving_router
from accord.api.tables import table_router
from accord.api.tags import tag_router
from accord.api.tracking import tracking_router
from accord.board.docs import install_docs
from accord.board.router import Board
from accord.errors import AccordError, JsonSyntaxError, RecordNotFound, RetCode, http_status
from accord.metrics import metrics_router
from accord.model_store import ModelService
from accord.persistence import TableGrantRepository
from accord.serving import ServingService
from accord.site.deploy import ModelDeployment
from accord.site.jobs import JobService
from accord.site.tracking import TrackingService
from accord.storage import TableStore

log = logging.getLogger(__name__)

_ERROR_MEANING = {
    400: "bad input: not JSON, a wrong or unknown field, or a job the compiler rejects",
    404: "no such job, component or endpoint",
    409: "the job's state does not allow this (stop an ended job, rerun a running one)",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the coded errors an endpoint answers; ``default`` covers 5xx.

    Listing ``default`` also keeps FastAPI from documenting a 422 this API never sends.
    """
    documented: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorEnvelope, "description": _ERROR_MEANING[status]} for status in statuses
    }
    documented["default"] = {
        "model": ErrorEnvelope,
        "description": "the site failed (500) or cannot reach Temporal (503)",
    }
    return documented


def _envelope(status: int, retcode: int, retmsg: str, data: Any = None, **headers: str) -> JSONResponse:
    content = {"retcode": retcode, "retmsg": retmsg, "data": data, "jobId": None}
    return JSONResponse(status_code=status, content=content, headers=headers or None)


def _invalid_body(error: RequestValidationError) -> JSONResponse:
    problems = [_problem(e) for e in error.errors()] or [{"field": "body", "message": "invalid request body"}]
    code = JsonSyntaxError.code if error.errors()[0].get("type") == "json_invalid" else int(RetCode.ARGUMENT)
    first = problems[0]
    message = first["message"] if first["field"] == "body" else f"request body: {first['message']}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more, listed in data.errors)"
    return _envelope(400, code, message, {"errors": problems})


def _problem(error: Any) -> dict[str, str]:
    """One validation error as the field it concerns and a sentence naming that field."""
    kind, msg = error.get("type", ""), error.get("msg", "invalid")
    if kind == "json_invalid":
        # FastAPI puts the character offset where the field would be.
        offset = error.get("loc", ("body", "?"))[-1]
        detail = error.get("ctx", {}).get("error") or msg
        return {
            "field": "body",
            "message": f"the request body is not valid JSON: {detail} at character {offset}",
        }
    field = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    if not field:
        if kind == "missing":
            message = "the request has no body: send a JSON object (Content-Type: application/json)"
        else:
            message = "the request body must be a JSON object (Content-Type: application/json)"
        return {"field": "body", "message": message}
    if kind == "extra_forbidden":
        return {"field": field, "message": f"unknown field {field!r}"}
    if kind == "missing":
        return {"field": field, "message": f"field {field!r} is required"}
    return {"field": field, "message": f"field {field!r}: {msg}"}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AccordError)
    async def coded(_: Request, error: AccordError) -> JSONResponse:
        return _envelope(http_status(error), error.code, error.retmsg, error.details or None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return _invalid_body(error)

    @app.exception_handler(HTTPException)
    async def routing(request: Request, error: HTTPException) -> JSONResponse:
        # Unknown paths and wrong methods: FastAPI's {"detail"} body is not an envelope FATE clients read.
        if error.status_code == 404:
            message = f"no endpoint {request.method} {request.url.path}"
            return _envelope(404, int(RetCode.NOT_FOUND), message)
        if error.status_code == 405:
            allowed = next((v for k, v in (error.headers or {}).items() if k.lower() == "allow"), "")
            message = f"{request.method} is not allowed on {request.url.path}; use {allowed or 'POST'}"
            return _envelope(405, int(RetCode.ARGUMENT), message, allow=allowed)
        family = RetCode.ARGUMENT if error.status_code < 500 else RetCode.EXCEPTION
        return _envelope(error.status_code, int(family), str(error.detail))

    @app.exception_handler(RPCError)
    async def temporal(_: Request, error: RPCError) -> JSONResponse:
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            message = f"Temporal is unreachable: {error.message}. Check that the site's Temporal server runs"
            return _envelope(503, int(RetCode.CONNECTION), message)
        log.error("Temporal refused a request: %s (%s)", error.message, error.status)
        return _envelope(500, int(RetCode.EXCEPTION), f"Temporal refused the request: {error.message}")

    @app.middleware("http")
    async def unexpected(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Caught here rather than by an Exception handler, which Starlette re-raises to the server.
        try:
            return await call_next(request)
        except Exception as error:
            log.exception("%s %s failed", request.method, request.url.path)
            return _envelope(500, int(RetCode.EXCEPTION), f"internal error: {type(error).__name__}: {error}")


def create_app(
    jobs: JobService,
    *,
    tracking: TrackingService | None = None,
    tables: TableStore | None = None,
    deployment: ModelDeployment | None = None,
    models: ModelService | None = None,
    serving: ServingService | None = None,
    grants: TableGrantRepository | None = None,
    authenticator: RequestAuthenticator | None = None,
    edge: EdgePolicy | None = None,
    upload_roots: Sequence[Path] = (),
    board: Board | None = None,
    flow: FlowServices | None = None,
    metrics: CollectorRegistry | None = None,
) -> FastAPI:
    """The API behind :mod:`accord.api.edge`'s checks (``edge``; by default only its size limits).

    With ``authenticator`` (and no ``edge``) every request but the documentation pages must be signed.
    """
    app = FastAPI(
        title="Accord",
        version=__version__,
        description="FATE-Flow compatible job API: POST JSON, replies in FATE-Flow's envelope.",
        # Served from the package by install_docs: FastAPI's own pages load Swagger UI from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    policy = edge or EdgePolicy(authenticator=authenticator)
    # Added before the error handlers' middleware, which then wraps it, so even a failure while
    # checking a request still answers with an envelope.
    docs = [p for p in (app.openapi_url,) if p] + install_docs(app)
    open_paths = docs + (board.open_paths() if board is not None else [])
    app.add_middleware(EdgeMiddleware, policy=policy, open_paths=open_paths)
    _install_error_handlers(app)

    @app.post("/v1/job/submit", responses=_errors(400))
    async def submit(body: SubmitBody) -> Envelope[SubmitResult]:
        """Compile and start a job; ``data`` has its model info, board url and logs directory."""
        result = await jobs.submit(body.job_dsl, body.job_runtime_conf)
        return Envelope(data=result, jobId=result.job_id)

    @app.post("/v1/job/query", responses=_errors(400, 404))
    async def query(body: JobQueryBody) -> Envelope[list[JobRow]]:
        """Every party's row of a job on this site, optionally of one role, party or status."""
        records = await jobs.query(body.job_id, body.role, body.party_id)
        if body.status is not None:
            records = [r for r in records if r.status == body.status]
            if not records:
                raise RecordNotFound(f"job {body.job_id} has no party in status {body.status.value}")
        try:
            live = await jobs.live_view(body.job_id)
        except RPCError as error:
            # The rows alone still answer the query; only the scheduler's live view is missing.
            log.warning("no live view of job %s: %s", body.job_id, error.message)
            live = None
        progress = await jobs.progress(records)
        reused = await jobs.reused(body.job_id)
        rows = [
            JobRow.of(r, live, progress.get((r.job_id, r.role, r.party_id)), reused.get((r.role, r.party_id)))
            for r in records
        ]
        return Envelope(data=rows, jobId=body.job_id)

    @app.post("/v1/job/list/job", responses=_errors(400))
    async def list_jobs(body: JobListBody) -> Envelope[JobList]:
        """Party rows of the newest jobs, optionally of one status."""
        status = body.status.value if body.status else None
        records = await jobs.list_jobs(limit=body.limit, status=status)
        progress = await jobs.progress(records)
        rows = [JobRow.of(r, progress=progress.get((r.job_id, r.role, r.party_id))) for r in records]
        return Envelope(data=JobList(jobs=rows, count=len(records)))

    @app.post("/v1/job/stop", responses=_errors(400, 404, 409))
    async def stop(body: StopBody) -> Envelope[None]:
        """Stop a waiting or running job; it ends as canceled on every party."""
        await jobs.stop(body.job_id)
        return Envelope(retmsg="stopping the job", jobId=body.job_id)

    @app.post("/v1/job/pause", responses=_errors(400, 404, 409))
    async def pause(body: JobIdBody) -> Envelope[None]:
        """Pause a job: running tasks finish, none starts; then its cores and queue slot are given back."""
        await jobs.pause(body.job_id)
        return Envelope(retmsg="pausing the job", jobId=body.job_id)

    @app.post("/v1/job/resume", responses=_errors(400, 404, 409))
    async def resume(body: JobIdBody) -> Envelope[None]:
        """Resume a paused job: it waits in the queue again, then carries on where it stopped."""
        await jobs.resume(body.job_id)
        return Envelope(retmsg="resuming the job", jobId=body.job_id)

    @app.post("/v1/job/rerun", responses=_errors(400, 404, 409))
    async def rerun(body: RerunBody) -> Envelope[None]:
        """Run an ended job again from its failed components, or from ``component_name``."""
        await jobs.rerun(body.job_id, body.component_name, body.force)
        return Envelope(retmsg="rerunning the job", jobId=body.job_id)

    @app.post("/v1/job/parameter/update", responses=_errors(400, 404, 409))
    async def parameter_update(body: ParameterUpdateBody) -> Envelope[dict[str, Any]]:
        """Merge new parameters into an ended job's conf (checked as at submit); rerun it to use them."""
        updated = await jobs.update_parameters(body.job_id, body.job_parameters, body.component_parameters)
        retmsg = "parameters updated: rerun the job to use them"
        return Envelope(data=updated, retmsg=retmsg, jobId=body.job_id)

    @app.post("/v1/job/task/query", responses=_errors(400, 404))
    async def task_query(body: TaskQueryBody) -> Envelope[list[TaskRow]]:
        """Every version of every task of a job on this site, optionally filtered."""
        records = await jobs.tasks(body.job_id, body.component_name)
        rows = [
            TaskRow.of(r)
            for r in records
            if (body.role is None or r.key.role == body.role)
            and (body.party_id is None or r.key.party_id == body.party_id)
            and (body.status is None or r.status == body.status)
        ]
        return Envelope(data=rows, jobId=body.job_id)

    @app.post(
        "/v1/job/log/download",
        response_class=Response,
        responses={
            200: {
                "description": "the job's log folder as a tar.gz: <job id>/<role>_<party id>/schedule.log "
                "and each task's <job id>/<role>/<party id>/<component>/INFO.log and ERROR.log",
                "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
            },
            **_errors(400, 404),
        },
    )
    async def log_download(body: JobIdBody) -> Response:
        await jobs.query(body.job_id)
        # Compressing a long log must not stall every other request on the event loop.
        archive = await asyncio.to_thread(jobs.log_archive, body.job_id)
        headers = {"Content-Disposition": f'attachment; filename="job_{body.job_id}_log.tar.gz"'}
        return Response(content=archive, media_type="application/gzip", headers=headers)

    @app.get("/v1/version", responses=_errors())
    async def version() -> Envelope[VersionData]:
        """The accord version serving this API."""
        return Envelope(data=VersionData(accord=__version__))

    if tracking is not None:
        app.include_router(tracking_router(tracking, _errors(400, 404)))
    if tables is not None:
        app.include_router(table_router(tables))
    if tables is not None and grants is not None:
        app.include_router(grant_router(grants, tables, _errors(400, 404)))
    if deployment is not None:
        app.include_router(deploy_router(deployment, _errors(400, 404, 409)))
    if models is not None:
        app.include_router(model_router(models, _errors(400, 404, 409), upload_roots=upload_roots))
    if serving is not None:
        app.include_router(serving_router(serving, _errors(400, 404, 409)))
    if flow is not None:
        app.include_router(flow_router(flow, _errors(400, 404)))
        app.include_router(tag_router(flow.database, flow.settings, flow.models, _errors(400, 404)))
        app.include_router(
            lifecycle_router(flow.settings, flow.database, flow.models, _errors(400, 404, 409))
        )
    if board is not None:
        app.include_router(board.router())
    if metrics is not None:
        # Behind the edge like the rest: the local credential standalone, a signature in cluster mode.
        app.include_router(metrics_router(metrics))
    return app
