"""The FastAPI application: FATE-Flow's v1 job endpoints over :class:`JobService`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from accord import __version__
from accord.api.schemas import (
    Envelope,
    JobIdBody,
    JobListBody,
    JobQueryBody,
    RerunBody,
    SubmitBody,
    TaskQueryBody,
    job_row,
    task_row,
)
from accord.errors import AccordError, RetCode, http_status
from accord.site.jobs import JobService

log = logging.getLogger(__name__)


def _envelope(status: int, retcode: int, retmsg: str, data: Any = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"retcode": retcode, "retmsg": retmsg, "data": data})


def create_app(jobs: JobService) -> FastAPI:
    app = FastAPI(title="Accord", version=__version__, description="FATE-Flow compatible job API")

    @app.exception_handler(AccordError)
    async def coded(_: Request, error: AccordError) -> JSONResponse:
        return _envelope(http_status(error), error.code, error.retmsg, error.details or None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid body"}
        field = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        message = f"request body: {field}: {first.get('msg', 'invalid')}"
        return _envelope(400, int(RetCode.ARGUMENT), message)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        log.exception("request failed")
        return _envelope(500, int(RetCode.EXCEPTION), f"internal error: {type(error).__name__}: {error}")

    @app.post("/v1/job/submit", response_model=Envelope)
    async def submit(body: SubmitBody) -> Envelope:
        result = await jobs.submit(body.job_dsl, body.job_runtime_conf)
        data = result.model_dump()
        data.pop("job_id")
        return Envelope(data=data, jobId=result.job_id)

    @app.post("/v1/job/query", response_model=Envelope)
    async def query(body: JobQueryBody) -> Envelope:
        records = await jobs.query(body.job_id, body.role, body.party_id)
        rows = [job_row(r) for r in records]
        view = await jobs.live_view(body.job_id)
        if view is not None:
            for row in rows:
                row["f_tasks"] = view.components
        return Envelope(data=rows, jobId=body.job_id)

    @app.post("/v1/job/list/job", response_model=Envelope)
    async def list_jobs(body: JobListBody) -> Envelope:
        records = await jobs.list_jobs(limit=body.limit, status=body.status)
        return Envelope(data={"jobs": [job_row(r) for r in records], "count": len(records)})

    @app.post("/v1/job/stop", response_model=Envelope)
    async def stop(body: JobIdBody) -> Envelope:
        await jobs.stop(body.job_id)
        return Envelope(jobId=body.job_id)

    @app.post("/v1/job/rerun", response_model=Envelope)
    async def rerun(body: RerunBody) -> Envelope:
        await jobs.rerun(body.job_id, body.component_name, body.force)
        return Envelope(jobId=body.job_id)

    @app.post("/v1/job/task/query", response_model=Envelope)
    async def task_query(body: TaskQueryBody) -> Envelope:
        records = await jobs.tasks(body.job_id, body.component_name)
        return Envelope(data=[task_row(r) for r in records], jobId=body.job_id)

    @app.post(
        "/v1/job/log/download",
        response_class=Response,
        responses={200: {"content": {"application/gzip": {}}}},
    )
    async def log_download(body: JobIdBody) -> Response:
        await jobs.query(body.job_id)
        archive = jobs.log_archive(body.job_id)
        headers = {"Content-Disposition": f'attachment; filename="job_{body.job_id}_log.tar.gz"'}
        return Response(content=archive, media_type="application/gzip", headers=headers)

    return app
