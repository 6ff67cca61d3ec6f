"""Reading an upload request: a JSON conf naming a server file, or a file's bytes with the conf in
the query, spooled as they arrive. See :mod:`accord.api.tables` for the endpoint these serve.
"""

from __future__ import annotations

import asyncio
import json
import re

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from accord.api.auth import BODY_SHA256 as CONTENT_SHA256
from accord.errors import ArgumentError, JsonSyntaxError, RequestTooLarge
from accord.storage import UploadConf
from accord.storage.intake import Spool

# An upload conf is a few hundred bytes; the edge lets the upload path's bodies through unbounded, as
# they may be files, so a JSON conf is held to this here.
MAX_CONF_BYTES = 1 << 20
# Streamed bytes gathered before each write to the spool: a few large writes off the event loop.
SPOOL_WRITE_BYTES = 1 << 20
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
STREAM_HINT = (
    "POST the file's bytes as the body with the upload conf as the query parameter 'conf' and the "
    f"bytes' hex SHA-256 in {CONTENT_SHA256} (`accord data upload -c CONF` does this)"
)


def is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def json_conf(request: Request) -> UploadConf:
    """The JSON body's upload conf, read no further than :data:`MAX_CONF_BYTES`."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CONF_BYTES:
            raise RequestTooLarge(
                f"the upload conf has more than {MAX_CONF_BYTES} bytes",
                hint=f"send a file's content as the body, not JSON: {STREAM_HINT}",
                limit=MAX_CONF_BYTES,
            )
    try:
        return UploadConf.model_validate_json(bytes(body))
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None


def query_conf(conf: str | None) -> UploadConf:
    if conf is None:
        raise ArgumentError(
            "a body that is not JSON (Content-Type: application/json) is a file's bytes, and needs its "
            "upload conf in the query parameter 'conf'",
            hint=STREAM_HINT,
        )
    try:
        values = json.loads(conf)
    except ValueError as error:
        raise JsonSyntaxError(f"query parameter 'conf' is not JSON: {error}", hint=STREAM_HINT) from None
    if not isinstance(values, dict):
        raise ArgumentError(
            "query parameter 'conf' must be a JSON object (FATE's upload conf)", hint=STREAM_HINT
        )
    # Only a name for messages here: the bytes are the body.
    values.setdefault("file", "upload")
    return UploadConf.parse(values, source="query parameter 'conf'")


def declared_sha256(request: Request) -> str:
    value = request.headers.get(CONTENT_SHA256, "").strip()
    if not _SHA256_HEX.fullmatch(value):
        raise ArgumentError(
            f"a streamed upload needs header {CONTENT_SHA256}: the hex SHA-256 of the bytes it sends",
            hint="hash the file before sending it (sha256sum FILE); the accord CLI does",
            header=CONTENT_SHA256,
        )
    return value.lower()


async def receive_into(request: Request, spool: Spool) -> None:
    """The request's body into ``spool``, refused as soon as it passes the site's limit."""
    spool.check_declared(request.headers.get("content-length"))
    pending = bytearray()
    try:
        async for chunk in request.stream():
            pending += chunk
            if len(pending) >= SPOOL_WRITE_BYTES:
                await asyncio.to_thread(spool.write, bytes(pending))
                pending.clear()
    except ClientDisconnect:
        raise ArgumentError(
            "the client went away before the upload's last byte", hint="upload the file again"
        ) from None
    await asyncio.to_thread(spool.write, bytes(pending))


def client_address(request: Request) -> str:
    return f"{request.client.host}:{request.client.port}" if request.client else "an unknown address"


def file_name(file: str) -> str:
    """The last part of a client's file name (a client path says nothing the site needs)."""
    return re.split(r"[\\/]", file)[-1] or file
