"""FATE-Flow's v1 data and table endpoints over :class:`~accord.storage.TableStore`.

``/v1/data/upload`` takes FATE's upload conf and reads ``file`` on the site (FATE's ``use_local_data:
0``); it answers when the table is written. Asked for ``application/x-ndjson``, it streams one
``{"progress": ...}`` line per block of the file, then the envelope as the last line.
``/v1/data/download`` writes the table to ``output_path`` on the site, or without one streams the
table's text in the reply. ``/v1/table/list`` lists the site's tables (FATE-Flow's lists a job's).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from accord.api.schemas import Envelope, ErrorEnvelope
from accord.errors import AccordError, RecordNotFound, RetCode
from accord.storage import TableInfo, TableStore, UploadConf, UploadProgress

log = logging.getLogger(__name__)

NDJSON = "application/x-ndjson"
COUNT_HEADER = "X-Table-Count"

_ERROR_MEANING = {
    400: "bad input: not JSON, a wrong or unknown field, or an upload file that cannot become a table",
    404: "no such table",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    documented: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorEnvelope, "description": _ERROR_MEANING[status]} for status in statuses
    }
    documented["default"] = {"model": ErrorEnvelope, "description": "the site failed (500)"}
    return documented


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TableKeyBody(_Body):
    namespace: str
    table_name: str = Field(validation_alias=AliasChoices("table_name", "name"))


class DownloadBody(TableKeyBody):
    output_path: str | None = Field(
        default=None, description="write the file here on the site; without it the reply carries the text"
    )
    delimiter: str | None = Field(default=None, description="write with this delimiter, not the table's")


class TableListBody(_Body):
    namespace: str | None = None
    limit: int = Field(default=100, ge=1, le=10_000)


class TableKey(BaseModel):
    table_name: str
    namespace: str


class TableInfoData(BaseModel):
    """FATE-Flow's ``table_info`` data; ``exist`` is 0 (and the rest empty) for a missing table."""

    model_config = ConfigDict(populate_by_name=True)

    table_name: str
    namespace: str
    exist: int
    count: int = 0
    partition: int | None = None
    table_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    extend_sid: bool = False
    id_delimiter: str | None = None
    address: dict[str, Any] | None = None
    engine: str | None = None
    create_time: int | None = None
    update_time: int | None = None

    @classmethod
    def of(cls, info: TableInfo) -> TableInfoData:
        return cls.model_validate(info.to_fate())

    @classmethod
    def missing(cls, namespace: str, name: str) -> TableInfoData:
        return cls(table_name=name, namespace=namespace, exist=0)


class TableList(BaseModel):
    tables: list[TableInfoData]
    count: int


class DownloadData(TableKey):
    count: int
    output_path: str


def _ok(data: BaseModel) -> dict[str, Any]:
    return {
        "retcode": 0,
        "retmsg": "success",
        "data": data.model_dump(mode="json", by_alias=True),
        "jobId": None,
    }


def _failed(error: Exception) -> dict[str, Any]:
    if isinstance(error, AccordError):
        return {"retcode": error.code, "retmsg": error.retmsg, "data": error.details or None, "jobId": None}
    log.error("upload failed", exc_info=error)
    message = f"internal error: {type(error).__name__}: {error}"
    return {"retcode": int(RetCode.EXCEPTION), "retmsg": message, "data": None, "jobId": None}


def _progress_line(progress: UploadProgress) -> bytes:
    return (json.dumps({"progress": progress._asdict()}) + "\n").encode()


async def _upload_lines(store: TableStore, conf: UploadConf) -> AsyncIterator[bytes]:
    """Progress lines while the upload runs in a thread, then its envelope."""
    loop = asyncio.get_running_loop()
    reports: asyncio.Queue[UploadProgress] = asyncio.Queue()

    def report(progress: UploadProgress) -> None:
        loop.call_soon_threadsafe(reports.put_nowait, progress)

    upload = asyncio.ensure_future(asyncio.to_thread(store.upload, conf, progress=report))
    # Should the client go away, the upload still finishes; its outcome is then only logged.
    upload.add_done_callback(lambda done: done.cancelled() or done.exception())
    while not upload.done():
        next_report = asyncio.ensure_future(reports.get())
        await asyncio.wait({upload, next_report}, return_when=asyncio.FIRST_COMPLETED)
        if not next_report.done():
            next_report.cancel()
            continue
        yield _progress_line(next_report.result())
    while not reports.empty():
        yield _progress_line(reports.get_nowait())
    try:
        envelope = _ok(TableInfoData.of(upload.result()))
    except Exception as error:
        envelope = _failed(error)
    yield (json.dumps(envelope) + "\n").encode()


def table_router(store: TableStore) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/data/upload", response_model=Envelope[TableInfoData], responses=_errors(400))
    async def upload(conf: UploadConf, request: Request) -> Any:
        """Upload ``file`` (a path on the site) into a table; ``drop: 1`` replaces it, else rows merge by id.

        With ``Accept: application/x-ndjson`` the reply streams progress lines before the envelope.
        """
        if NDJSON in request.headers.get("accept", ""):
            return StreamingResponse(_upload_lines(store, conf), media_type=NDJSON)
        info = await asyncio.to_thread(store.upload, conf)
        return Envelope(data=TableInfoData.of(info))

    @router.post(
        "/v1/data/download",
        response_model=Envelope[DownloadData],
        responses={
            200: {
                "description": "the envelope when output_path is given, else the table as delimited text",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            },
            **_errors(400, 404),
        },
    )
    async def download(body: DownloadBody) -> Any:
        """Write a table as delimited text, header first, as it was uploaded."""
        if body.output_path is not None:
            path = Path(body.output_path).absolute()
            count = await asyncio.to_thread(
                store.download, body.namespace, body.table_name, path, delimiter=body.delimiter
            )
            data = DownloadData(
                table_name=body.table_name, namespace=body.namespace, count=count, output_path=str(path)
            )
            return Envelope(data=data)
        info, chunks = await asyncio.to_thread(
            store.text, body.namespace, body.table_name, delimiter=body.delimiter
        )
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(info.name)}.csv",
            COUNT_HEADER: str(info.count),
        }
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers)

    @router.post("/v1/table/table_info", responses=_errors(400))
    async def table_info(body: TableKeyBody) -> Envelope[TableInfoData]:
        """A table's count, partitions, schema and address; ``exist`` 0 when there is no such table."""
        info = await asyncio.to_thread(store.find, body.namespace, body.table_name)
        if info is None:
            return Envelope(data=TableInfoData.missing(body.namespace, body.table_name))
        return Envelope(data=TableInfoData.of(info))

    @router.post("/v1/table/list", responses=_errors(400))
    async def list_tables(body: TableListBody) -> Envelope[TableList]:
        """The site's tables, ordered by namespace and name, optionally of one namespace."""
        infos = await asyncio.to_thread(store.list, namespace=body.namespace, limit=body.limit)
        return Envelope(data=TableList(tables=[TableInfoData.of(i) for i in infos], count=len(infos)))

    @router.post("/v1/table/delete", responses=_errors(400, 404))
    async def delete(body: TableKeyBody) -> Envelope[TableKey]:
        """Delete a table and its data."""
        if not await asyncio.to_thread(store.delete, body.namespace, body.table_name):
            raise RecordNotFound(
                f"table {body.namespace}.{body.table_name} does not exist",
                hint="check the namespace and name with `accord table list`",
                namespace=body.namespace,
                table_name=body.table_name,
            )
        return Envelope(data=TableKey(table_name=body.table_name, namespace=body.namespace))

    return router
