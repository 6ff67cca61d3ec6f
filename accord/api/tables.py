"""FATE-Flow's v1 data and table endpoints over :class:`~accord.storage.TableStore`.

``/v1/data/upload`` takes a file's content as the request body (any content type but JSON, e.g.
``application/octet-stream``) with FATE's upload conf as the ``conf`` query parameter (JSON; its
``file`` only names the upload in messages) and the body's hex SHA-256 in ``X-Content-SHA256``. The
body is spooled to a private file under the site's home, bounded by ``max_upload_bytes`` and checked
against its SHA-256 before the table is touched. This is FATE's default (``use_local_data: 1``): the
client sends the file, and ``accord data upload`` does so.

A JSON body instead names a ``file`` on the site (FATE's ``use_local_data: 0``). The site reads it only
when it lies below one of the directories its operator listed in ``upload_roots`` (empty by default),
symlinks resolved; anything else is refused with :class:`~accord.errors.PathNotAllowed`. Either way,
asked for ``application/x-ndjson``, the reply streams one ``{"progress": ...}`` line per block of the
file, then the envelope as the last line.

``/v1/data/download`` streams the table's text in the reply; the client writes it where it likes. The
site never writes a path a client names, so ``output_path`` is refused. ``/v1/table/list`` lists the
site's tables (FATE-Flow's lists a job's).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from accord.api.schemas import Envelope, ErrorEnvelope
from accord.api.uploads import (
    STREAM_HINT,
    client_address,
    declared_sha256,
    file_name,
    is_json,
    json_conf,
    query_conf,
    receive_into,
)
from accord.errors import (
    AccordError,
    ArgumentError,
    PathNotAllowed,
    RecordNotFound,
    RetCode,
)
from accord.storage import TableInfo, TableStore, UploadConf, UploadProgress
from accord.storage.intake import server_file
from accord.storage.names import TableNamePart

log = logging.getLogger(__name__)

NDJSON = "application/x-ndjson"
COUNT_HEADER = "X-Table-Count"
_ERROR_MEANING = {
    400: "bad input: not JSON, a wrong or unknown field, or an upload file that cannot become a table",
    401: "the streamed bytes do not match their X-Content-SHA256",
    403: "a server path outside the site's upload_roots, or a server path to write (output_path)",
    404: "no such table",
    413: "an upload over the site's max_upload_bytes",
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
    namespace: TableNamePart
    table_name: TableNamePart = Field(validation_alias=AliasChoices("table_name", "name"))


class DownloadBody(TableKeyBody):
    output_path: str | None = Field(
        default=None,
        description="refused: the site writes no file a client names; save the reply's text instead",
        json_schema_extra={"deprecated": True},
    )
    delimiter: str | None = Field(default=None, description="write with this delimiter, not the table's")


class TableListBody(_Body):
    namespace: TableNamePart | None = None
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


# An upload's work, run in a thread: given a progress callback (or None), the table it wrote.
UploadWork = Callable[[Callable[[UploadProgress], None] | None], TableInfo]


class _Running:
    """An upload started in a thread, with its progress reports queued for the event loop.

    Started before the reply is returned, so it runs (and cleans up after itself) even if the client
    goes away before reading a line; its outcome is then only logged.
    """

    def __init__(self, work: UploadWork) -> None:
        loop = asyncio.get_running_loop()
        self.reports: asyncio.Queue[UploadProgress] = asyncio.Queue()

        def report(progress: UploadProgress) -> None:
            loop.call_soon_threadsafe(self.reports.put_nowait, progress)

        self.task = asyncio.ensure_future(asyncio.to_thread(work, report))
        self.task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def lines(self) -> AsyncIterator[bytes]:
        """Progress lines while the upload runs, then its envelope."""
        while not self.task.done():
            next_report = asyncio.ensure_future(self.reports.get())
            await asyncio.wait({self.task, next_report}, return_when=asyncio.FIRST_COMPLETED)
            if not next_report.done():
                next_report.cancel()
                continue
            yield _progress_line(next_report.result())
        while not self.reports.empty():
            yield _progress_line(self.reports.get_nowait())
        try:
            envelope = _ok(TableInfoData.of(self.task.result()))
        except Exception as error:
            envelope = _failed(error)
        yield (json.dumps(envelope) + "\n").encode()


async def _run(work: UploadWork, request: Request) -> Any:
    if NDJSON in request.headers.get("accept", ""):
        return StreamingResponse(_Running(work).lines(), media_type=NDJSON)
    info = await asyncio.to_thread(work, None)
    return Envelope(data=TableInfoData.of(info))


def table_router(store: TableStore) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/v1/data/upload",
        response_model=Envelope[TableInfoData],
        responses=_errors(400, 401, 403, 413),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": UploadConf.model_json_schema(by_alias=False)},
                },
            },
        },
    )
    async def upload(
        request: Request,
        conf: Annotated[
            str | None,
            Query(description="with a file's bytes as the body: FATE's upload conf as JSON"),
        ] = None,
    ) -> Any:
        """Upload a file into a table; ``drop: 1`` replaces it, else rows merge by id.

        The body is the file's bytes, with the conf in ``conf`` and their SHA-256 in
        ``X-Content-SHA256``; or a JSON conf whose ``file`` lies on the site below ``upload_roots``.
        With ``Accept: application/x-ndjson`` the reply streams progress lines before the envelope.
        """
        if is_json(request):
            if conf is not None:
                raise ArgumentError(
                    "the upload conf came both as the JSON body and as the query parameter 'conf'",
                    hint="send it once: as the body for a file on the site, in the query for a streamed file",
                )
            local = await json_conf(request)
            # Checked before any work, so a refusal is a coded 4xx even when progress lines were asked for.
            try:
                source = await asyncio.to_thread(server_file, local.file, store.upload_roots)
            except PathNotAllowed as refusal:
                log.warning("refused an upload from %s: %s", client_address(request), refusal.message)
                raise
            log.info("uploading server file %s into %s.%s", source, local.namespace, local.table_name)
            return await _run(
                lambda progress: store.upload_file(local, source, progress=progress, label=local.file),
                request,
            )
        if request.headers.get("content-type", "").lower().startswith("multipart/"):
            raise ArgumentError(
                "a multipart upload (FATE's flow client) is not taken: the body must be the file's bytes",
                hint=STREAM_HINT,
            )
        streamed = query_conf(conf)
        expected = declared_sha256(request)
        spool = await asyncio.to_thread(store.spool)
        try:
            await receive_into(request, spool)
            path = await asyncio.to_thread(spool.finish, expected)
        except AccordError as refusal:
            spool.discard()
            log.warning("refused an upload from %s: %s", client_address(request), refusal.message)
            raise
        except BaseException:
            spool.discard()
            raise
        name = file_name(streamed.file)

        def work(progress: Callable[[UploadProgress], None] | None) -> TableInfo:
            try:
                return store.upload_file(streamed, path, progress=progress, label=name)
            finally:
                spool.discard()

        return await _run(work, request)

    @router.post(
        "/v1/data/download",
        responses={
            200: {
                "description": "the table as delimited text",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            },
            **_errors(400, 403, 404),
        },
    )
    async def download(body: DownloadBody, request: Request) -> Any:
        """Stream a table as delimited text, header first, as it was uploaded."""
        if body.output_path is not None:
            log.warning(
                "refused a download to the server path %r from %s", body.output_path, client_address(request)
            )
            raise PathNotAllowed(
                "field 'output_path' is refused: the site writes no file a client names",
                hint="leave output_path out and save the reply's text where you want it "
                "(`accord data download -o FILE` writes FILE on your machine)",
                field="output_path",
            )
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
