"""The CLI's client of a site's HTTP API: where the server is, and FATE-Flow's envelope over POST JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from accord.errors import AccordError, ArgumentError, ConnectionFailure, InputFileError, error_from_code

DEFAULT_SERVER = "http://127.0.0.1:9380"
SERVER_ENV = "ACCORD_SERVER"
CONF_ENV = "ACCORD_CLI_CONF"
_UNREACHABLE_HINT = (
    "start a site with `accord up`, or point the CLI at its server with `accord init --ip IP --port PORT` "
    f"(or --server URL, or {SERVER_ENV})"
)


def conf_file() -> Path:
    return Path(os.environ.get(CONF_ENV) or Path.home() / ".accord" / "cli.json")


def check_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ArgumentError(
            f"server address {url!r} is not an http(s) URL", hint="give it as http://HOST:PORT"
        )
    return url.rstrip("/")


def save_server(url: str) -> Path:
    path = conf_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"server": check_url(url)}, indent=4) + "\n", encoding="utf-8")
    except OSError as error:
        raise InputFileError(f"cannot write the CLI settings {str(path)!r}: {error.strerror}") from None
    return path


def saved_server() -> str | None:
    path = conf_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise InputFileError(f"cannot read the CLI settings {str(path)!r}: {error.strerror}") from None
    try:
        saved = json.loads(text)
    except json.JSONDecodeError:
        saved = None
    if not isinstance(saved, dict) or not isinstance(saved.get("server"), str):
        raise InputFileError(
            f'the CLI settings {str(path)!r} are not {{"server": URL}}', hint="run `accord init` again"
        )
    return str(saved["server"])


def resolve_server(option: str | None) -> str:
    """``--server`` > ``$ACCORD_SERVER`` > the address ``accord init`` saved > the local default."""
    return check_url(option or os.environ.get(SERVER_ENV) or saved_server() or DEFAULT_SERVER)


class RemoteError(Exception):
    """A coded error envelope from the server, kept as it came so the CLI prints it unchanged."""

    def __init__(self, envelope: dict[str, Any]) -> None:
        self.envelope = envelope
        self.error = error_from_code(int(envelope["retcode"]), str(envelope.get("retmsg", "")))
        super().__init__(self.error.retmsg)


class Api:
    """POST JSON to a site's v1 API; raise :class:`RemoteError` or a coded error, never httpx's."""

    def __init__(self, server: str, *, timeout_s: float = 60.0) -> None:
        self.server = server
        self._timeout_s = timeout_s
        # Refusals come at once; a short connect timeout makes a wrong address fail fast too.
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        self._client = httpx.Client(base_url=server, timeout=timeout)

    def __enter__(self) -> Api:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._client.close()

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The success envelope of ``POST path``."""
        return self._checked(self._envelope(self._post(path, body)))

    def download(self, path: str, body: dict[str, Any]) -> bytes:
        """The bytes of a file endpoint, whose errors still come as envelopes."""
        response = self._post(path, body)
        if response.headers.get("content-type", "").startswith("application/json"):
            self._checked(self._envelope(response))
            raise AccordError(f"the server at {self.server} answered {path} without a file")
        return response.content

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return self._client.post(path, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise ConnectionFailure(
                f"cannot reach the accord server at {self.server}", hint=_UNREACHABLE_HINT
            ) from None
        except httpx.TimeoutException:
            raise ConnectionFailure(
                f"the accord server at {self.server} did not answer {path} within {self._timeout_s:g} s",
                hint="the site may be overloaded; try again",
            ) from None
        except httpx.HTTPError as error:
            raise ConnectionFailure(
                f"talking to the accord server at {self.server} failed: {type(error).__name__}: {error}",
                hint=_UNREACHABLE_HINT,
            ) from None

    def _envelope(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("retcode"), int):
            snippet = response.text[:200].strip()
            raise AccordError(
                f"{self.server} answered HTTP {response.status_code} without an accord envelope: {snippet!r}",
                hint=f"check that --server, {SERVER_ENV} or `accord init` point at an accord server",
            )
        return body

    @staticmethod
    def _checked(envelope: dict[str, Any]) -> dict[str, Any]:
        if envelope["retcode"] != 0:
            raise RemoteError(envelope)
        return envelope
