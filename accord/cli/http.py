"""The CLI's client of a site's HTTP API: where the server is, and FATE-Flow's envelope over POST JSON.

With an app key and secret configured (``$ACCORD_APP_KEY`` and ``$ACCORD_APP_SECRET``, else what
``accord init --app-key --app-secret`` saved) every request is signed as :mod:`accord.api.auth`
describes, which cluster sites require. Without them, a request to a site on this machine carries the
standalone site's local credential (``$ACCORD_TOKEN``, else the ``local_token`` file in the site's home,
``$ACCORD_HOME`` or ``~/.accord``); it is never sent to another machine.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from accord.api.auth import BODY_SHA256, body_digest, signed_headers
from accord.errors import (
    AccordError,
    ArgumentError,
    AuthenticationFailed,
    ConnectionFailure,
    InputFileError,
    error_from_code,
)

DEFAULT_SERVER = "http://127.0.0.1:9380"
SERVER_ENV = "ACCORD_SERVER"
CONF_ENV = "ACCORD_CLI_CONF"
APP_KEY_ENV = "ACCORD_APP_KEY"
APP_SECRET_ENV = "ACCORD_APP_SECRET"
TOKEN_ENV = "ACCORD_TOKEN"
HOME_ENV = "ACCORD_HOME"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
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


@dataclass(frozen=True)
class AppCredentials:
    """An app key and its secret, which sign requests to a cluster site."""

    app_key: str
    app_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        # The key travels in a header, which httpx would refuse with a bare UnicodeEncodeError.
        if not (self.app_key.isascii() and self.app_key.isprintable()) or " " in self.app_key:
            raise ArgumentError(
                f"app key {self.app_key!r} is not printable ASCII without spaces",
                hint="use the app key the site's operator issued",
            )


def save_server(url: str, credentials: AppCredentials | None = None) -> Path:
    """Save the server address, and credentials if given, replacing what was saved before."""
    path = conf_file()
    saved: dict[str, str] = {"server": check_url(url)}
    if credentials is not None:
        saved |= {"app_key": credentials.app_key, "app_secret": credentials.app_secret}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, json.dumps(saved, indent=4) + "\n")
    except OSError as error:
        raise InputFileError(f"cannot write the CLI settings {str(path)!r}: {error.strerror}") from None
    return path


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in a file only its owner may read, as it may hold a secret."""
    # A new file created 0600 and renamed over the old: the secret is never readable by others, not
    # even for a moment, and an old file with a looser mode is not reused.
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _saved() -> dict[str, str] | None:
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
    if (
        not isinstance(saved, dict)
        or not isinstance(saved.get("server"), str)
        or not all(isinstance(saved.get(k, ""), str) for k in ("app_key", "app_secret"))
        or bool(saved.get("app_key")) != bool(saved.get("app_secret"))
    ):
        raise InputFileError(
            f'the CLI settings {str(path)!r} are not {{"server": URL}}, with "app_key" and "app_secret" '
            "both or neither",
            hint="run `accord init` again",
        )
    return {str(k): str(v) for k, v in saved.items()}


def saved_server() -> str | None:
    saved = _saved()
    return saved["server"] if saved else None


def saved_credentials() -> AppCredentials | None:
    saved = _saved()
    if not saved or not saved.get("app_key"):
        return None
    return AppCredentials(saved["app_key"], saved["app_secret"])


def configured_credentials() -> AppCredentials | None:
    """``$ACCORD_APP_KEY`` with ``$ACCORD_APP_SECRET`` > the pair `accord init` saved > none."""
    app_key, app_secret = os.environ.get(APP_KEY_ENV), os.environ.get(APP_SECRET_ENV)
    if app_key or app_secret:
        if not (app_key and app_secret):
            given, unset = (APP_KEY_ENV, APP_SECRET_ENV) if app_key else (APP_SECRET_ENV, APP_KEY_ENV)
            raise ArgumentError(f"{given} is set but {unset} is not", hint="set both, or neither")
        return AppCredentials(app_key, app_secret)
    return saved_credentials()


def resolve_server(option: str | None) -> str:
    """``--server`` > ``$ACCORD_SERVER`` > the address ``accord init`` saved > the local default."""
    return check_url(option or os.environ.get(SERVER_ENV) or saved_server() or DEFAULT_SERVER)


class RemoteError(Exception):
    """A coded error envelope from the server, kept as it came so the CLI prints it unchanged."""

    def __init__(self, envelope: dict[str, Any]) -> None:
        self.envelope = envelope
        self.error = error_from_code(int(envelope["retcode"]), str(envelope.get("retmsg", "")))
        super().__init__(self.error.retmsg)


def _tokens_file() -> Path:
    return conf_file().with_name("local_tokens.json")


def remember_local_token(server: str, token: str) -> None:
    """Note the local credential of the site `accord up` started at ``server``, for later commands."""
    known = _known_tokens()
    known[check_url(server)] = token
    try:
        _tokens_file().parent.mkdir(parents=True, exist_ok=True)
        _write_private(_tokens_file(), json.dumps(known, indent=4) + "\n")
    except OSError as error:
        raise InputFileError(
            f"cannot write the CLI's local credentials {str(_tokens_file())!r}: {error.strerror}"
        ) from None


def _known_tokens() -> dict[str, str]:
    try:
        known = json.loads(_tokens_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(known, dict):
        return {}
    return {str(k): str(v) for k, v in known.items() if isinstance(v, str)}


def local_token(server: str) -> str | None:
    """The local credential for ``server`` if it is on this machine.

    ``$ACCORD_TOKEN`` > what `accord up` noted for that address > the ``local_token`` file of the home
    (``$ACCORD_HOME`` or ``~/.accord``).
    """
    if httpx.URL(server).host not in _LOOPBACK_HOSTS:
        return None
    from accord.security.local_token import read_local_token

    token = os.environ.get(TOKEN_ENV) or _known_tokens().get(server.rstrip("/"))
    if token:
        return token.strip()
    return read_local_token(Path(os.environ.get(HOME_ENV) or Path.home() / ".accord").expanduser())


class _Signer(httpx.Auth):
    """Signs each request just before it is sent, over its method, target and body hash.

    A streamed body comes with its ``X-Content-SHA256`` header already set, so it is never read here.
    """

    def __init__(self, credentials: AppCredentials) -> None:
        self._credentials = credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key, secret = self._credentials.app_key, self._credentials.app_secret
        digest = request.headers.get(BODY_SHA256)
        if digest is None:
            digest = body_digest(request.read())
            # Sent along: a site takes a streamed body (an upload, an archive) only with it.
            request.headers[BODY_SHA256] = digest
        request.headers.update(signed_headers(key, secret, request.method, request.url.raw_path, digest))
        yield request


class _LocalToken(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class Api:
    """POST JSON to a site's v1 API; raise :class:`RemoteError` or a coded error, never httpx's.

    Requests are signed with ``credentials``, by default those :func:`configured_credentials` finds;
    without any they carry the local credential of a standalone site on this machine, if there is one.
    """

    def __init__(
        self, server: str, *, timeout_s: float = 60.0, credentials: AppCredentials | None = None
    ) -> None:
        self.server = server
        self._timeout_s = timeout_s
        credentials = credentials or configured_credentials()
        # Refusals come at once; a short connect timeout makes a wrong address fail fast too.
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
        auth: httpx.Auth | None = None
        if credentials:
            auth = _Signer(credentials)
        elif token := local_token(server):
            auth = _LocalToken(token)
        self._client = httpx.Client(base_url=server, timeout=timeout, auth=auth)

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
        # Encoded here, not by httpx: its encoder fails with a bare ValueError on NaN or Infinity (which
        # Python reads from a DSL or conf file) and with UnicodeEncodeError on a lone surrogate ("\ud800"
        # escaped in a file); ASCII escapes carry any string.
        try:
            content = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("ascii")
        except ValueError:
            raise ArgumentError(
                f"the request to {path} holds NaN or Infinity, which JSON cannot carry",
                hint="write a number or null instead in the DSL, conf or other file given",
            ) from None
        try:
            return self._client.post(path, content=content, headers={"Content-Type": "application/json"})
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
            if response.status_code == 401:
                # Not accord's refusal, which is an envelope: something in between wants credentials.
                raise AuthenticationFailed(
                    f"{self.server} refused the request as unauthenticated (HTTP 401, no accord envelope)",
                    hint="a proxy in front of the site may want its own credentials, or drop the "
                    "TIMESTAMP, NONCE, APP_KEY and SIGNATURE headers (nginx: underscores_in_headers on)",
                )
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
