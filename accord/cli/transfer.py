"""The CLI's side of moving table data: streamed replies from the site, progress on stderr, safe saves.

Imported only by the commands that move data, so other commands start without httpx.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click
import httpx

from accord.cli.http import Api, resolve_server
from accord.errors import AccordError, ArgumentError, ConnectionFailure

NDJSON = "application/x-ndjson"
# Uploads and downloads of big tables outlast the job commands' timeout; progress keeps them alive.
TRANSFER_TIMEOUT_S = 3600.0


class TransferApi(Api):
    """:class:`~accord.cli.http.Api` with streamed replies: upload progress and table text."""

    @classmethod
    def connect(cls, server: str | None) -> TransferApi:
        return cls(resolve_server(server), timeout_s=TRANSFER_TIMEOUT_S)

    @contextmanager
    def streamed(self, path: str, body: Mapping[str, Any], *, accept: str) -> Iterator[httpx.Response]:
        try:
            with self._client.stream("POST", path, json=dict(body), headers={"Accept": accept}) as response:
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

    def upload(
        self, body: Mapping[str, Any], on_progress: Callable[[Mapping[str, Any]], None]
    ) -> dict[str, Any]:
        """POST an upload conf; ``on_progress`` sees each progress line; the checked final envelope."""
        last: dict[str, Any] | None = None
        with self.streamed("/v1/data/upload", body, accept=NDJSON) as response:
            if not response.headers.get("content-type", "").startswith(NDJSON):
                return self.envelope_of(response)
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
                rows = int(progress.get("rows", 0))
                click.echo(f"{self._label}: {tenths * 10}% ({rows} rows)", file=self._stream)
        self._done_bytes = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def save_stream(chunks: Iterator[bytes], path: Path) -> None:
    """All of ``chunks`` into ``path``, or nothing: a broken transfer leaves no half file."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
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
