"""The CLI's side of moving table data: streamed replies from the site, progress on stderr, safe saves.

Imported only by the commands that move data, so other commands start without httpx.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click
import httpx

from accord.api.auth import BODY_SHA256 as CONTENT_SHA256
from accord.cli.http import Api, resolve_server
from accord.errors import AccordError, ArgumentError, ConnectionFailure, InputFileError

NDJSON = "application/x-ndjson"
READ_BYTES = 1 << 20
# Uploads and downloads of big tables outlast the job commands' timeout; progress keeps them alive.
TRANSFER_TIMEOUT_S = 3600.0


class TransferApi(Api):
    """:class:`~accord.cli.http.Api` with streamed replies: upload progress and table text."""

    @classmethod
    def connect(cls, server: str | None) -> TransferApi:
        return cls(resolve_server(server), timeout_s=TRANSFER_TIMEOUT_S)

    def __enter__(self) -> TransferApi:
        return self

    @contextmanager
    def streamed(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        accept: str,
        content: bytes | Iterator[bytes] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """POST ``body`` as JSON (or ``content`` as it is) and read the reply as it streams."""
        sent = {"Accept": accept, **(headers or {})}
        json_body = dict(body) if body is not None else None
        try:
            with self._client.stream(
                "POST", path, json=json_body, content=content, params=params, headers=sent
            ) as response:
                yield response
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise ConnectionFailure(
                f"cannot reach the accord server at {self.server}",
                hint="start a site with `accord up`, or point the CLI at it with `accord init`",
            ) from None
        except httpx.HTTPError as error:
            raise ConnectionFailure(
                f"the transfer with the accord server at {self.server} broke off: {type(error).__name__}",
                hint="check that the site still runs, then try again",
            ) from None

    def envelope_of(self, response: httpx.Response) -> dict[str, Any]:
        """The checked envelope of a reply that is not a stream."""
        response.read()
        return self._checked(self._envelope(response))

    def upload_file(
        self,
        conf: Mapping[str, Any],
        source: Path,
        *,
        on_sent: Callable[[int, int], None] = lambda done, total: None,
        on_progress: Callable[[Mapping[str, Any]], None] = lambda progress: None,
    ) -> dict[str, Any]:
        """Stream the local file ``source`` into the table ``conf`` names; the checked final envelope.

        The file is hashed in one pass first (the site checks the bytes against it, and a signed
        request covers it), then sent in blocks: ``on_sent(bytes sent, size)`` after each, and
        ``on_progress`` with each of the site's progress lines as it stores the table.
        """
        digest, size = file_sha256(source)
        # The site reads only these bytes; the conf's file is just their name there.
        fields = {key: value for key, value in conf.items() if key != "use_local_data"}
        query = {"conf": json.dumps({**fields, "file": source.name}, separators=(",", ":"))}
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            CONTENT_SHA256: digest,
        }
        content = _blocks(source, size, on_sent)
        with self.streamed(
            "/v1/data/upload", accept=NDJSON, content=content, params=query, headers=headers
        ) as response:
            return self._upload_reply(response, on_progress)

    def upload_server_file(
        self, conf: Mapping[str, Any], on_progress: Callable[[Mapping[str, Any]], None]
    ) -> dict[str, Any]:
        """Have the site read ``conf['file']`` on its own disk (FATE's ``use_local_data: 0``).

        Sites refuse this unless the file lies below a directory their operator allows (upload_roots).
        """
        content = json.dumps(dict(conf), separators=(",", ":")).encode()
        # The upload path's bodies are hashed as they stream, a JSON conf's too (signed sites want it).
        headers = {"Content-Type": "application/json", CONTENT_SHA256: hashlib.sha256(content).hexdigest()}
        with self.streamed("/v1/data/upload", accept=NDJSON, content=content, headers=headers) as response:
            return self._upload_reply(response, on_progress)

    def _upload_reply(
        self, response: httpx.Response, on_progress: Callable[[Mapping[str, Any]], None]
    ) -> dict[str, Any]:
        if not response.headers.get("content-type", "").startswith(NDJSON):
            return self.envelope_of(response)
        last: dict[str, Any] | None = None
        for line in response.iter_lines():
            message = json.loads(line) if line.strip() else None
            if not isinstance(message, dict):
                continue
            if isinstance(message.get("progress"), dict):
                on_progress(message["progress"])
            else:
                last = message
        if last is None or not isinstance(last.get("retcode"), int):
            raise AccordError(f"the server at {self.server} ended the upload without saying how it went")
        return self._checked(last)


def file_sha256(path: Path) -> tuple[str, int]:
    """The file's hex SHA-256 and size, read once in blocks."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as source:
            while block := source.read(READ_BYTES):
                digest.update(block)
                size += len(block)
    except OSError as error:
        raise InputFileError(f"cannot read upload file {str(path)!r}: {error.strerror or error}") from None
    return digest.hexdigest(), size


def _blocks(path: Path, size: int, on_sent: Callable[[int, int], None]) -> Iterator[bytes]:
    sent = 0
    with path.open("rb") as source:
        while block := source.read(READ_BYTES):
            sent += len(block)
            yield block
            on_sent(sent, size)


class ProgressDisplay:
    """A bar on a terminal; elsewhere, one line per tenth of the file."""

    def __init__(self, label: str, stream: TextIO, *, bar: bool) -> None:
        self._label = label
        self._stream = stream
        self._bar_wanted = bar
        self._bar: Any = None
        self._done_bytes = 0
        self._tenths = 0

    def update(self, progress: Mapping[str, Any]) -> None:
        done, total = int(progress.get("bytes_read", 0)), max(int(progress.get("total_bytes", 0)), 1)
        if self._bar_wanted:
            if self._bar is None:
                self._bar = click.progressbar(length=total, label=self._label, file=self._stream)
                self._bar.__enter__()
            self._bar.update(done - self._done_bytes)
        else:
            tenths = min(10, done * 10 // total)
            if tenths > self._tenths:
                self._tenths = tenths
                rows = f" ({int(progress['rows'])} rows)" if "rows" in progress else ""
                click.echo(f"{self._label}: {tenths * 10}%{rows}", file=self._stream)
        self._done_bytes = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def save_stream(chunks: Iterator[bytes], path: Path) -> None:
    """All of ``chunks`` into ``path``, or nothing: a broken transfer leaves no half file.

    The file is its owner's alone (0600): tables and models are data others should not read.
    """
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise ArgumentError(
            f"cannot write {str(path)!r}: {error.strerror or error}", hint="choose another --output-path"
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
