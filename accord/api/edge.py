"""The HTTP edge: every request passes these checks, in this order, before any route runs.

1. The Host header names this site (``allowed_hosts``), so a web page that rebinds its own DNS name to
   127.0.0.1 cannot talk to a standalone site from the user's browser.
2. Standalone: the request carries the site's local credential (``accord up`` writes it under the home,
   0600), as ``Authorization: Bearer <token>``, an ``accord_token`` cookie, or ``?token=`` on a GET
   (which answers with the cookie, so a printed link opens the board without a login step).
3. Cluster: the signature headers are well formed, fresh and name a known app key
   (:class:`~accord.api.auth.RequestAuthenticator`) — all before a byte of the body is read — unless,
   without signature headers, it carries the cookie of a board session (:mod:`accord.board.sessions`).
4. The body is no larger than the site allows (``Content-Length`` first, then while it arrives):
   ``max_request_bytes`` for JSON, ``max_upload_bytes`` for a streamed upload (``/v1/data/upload…``,
   ``/v1/model/import``), whose body is never buffered here.
5. A JSON body nests no deeper than ``max_json_depth``.
6. Cluster: the signature matches (method, target and the body's SHA-256); a streamed body is hashed
   as it passes and refused at its last byte if it differs from its signed ``X-Content-SHA256``.

Every refusal is FATE's envelope with a coded error and is logged on ``accord.api.edge``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote

from accord.api.auth import (
    APP_KEY,
    BODY_SHA256,
    HEADERS,
    Claim,
    RequestAuthenticator,
    body_digest,
)
from accord.errors import (
    AccordError,
    AuthenticationFailed,
    HostNotAllowed,
    JsonSyntaxError,
    RequestTooLarge,
    http_status,
)

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from accord.settings import Settings

log = logging.getLogger(__name__)

TOKEN_COOKIE = "accord_token"
# Cluster mode: a board that logged in with one signed request (accord.board.sessions) sends this.
SESSION_COOKIE = "accord_session"
TOKEN_QUERY = "token"
UPLOAD_PREFIX = "/v1/data/upload"
# Bodies that may be files (model archives): held to max_upload_bytes and hashed as they stream.
STREAMED_PATHS = frozenset({"/v1/model/import"})
_CHALLENGE = b'Signature realm="accord", headers="TIMESTAMP NONCE APP_KEY SIGNATURE"'
_BEARER_CHALLENGE = b'Bearer realm="accord"'
_TOKEN_FIX = (
    "send the site's local credential: the accord CLI reads it from the site's home "
    "(ACCORD_HOME/local_token) or ACCORD_TOKEN; a browser opens the link `accord up` prints"
)
# Strings (with escapes) hide brackets from the depth count; only structure remains after removing them.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
_SINGLE = frozenset(
    {"host", "authorization", "content-length", BODY_SHA256.lower(), *(h.lower() for h in HEADERS)}
)


@dataclass(frozen=True)
class EdgePolicy:
    """What the edge enforces; ``allowed_hosts`` None lets any Host in, ``local_token`` None any caller."""

    max_request_bytes: int = 16 * 1024 * 1024
    max_upload_bytes: int = 64 * 1024**3
    max_json_depth: int = 64
    allowed_hosts: frozenset[str] | None = None
    local_token: str | None = None
    authenticator: RequestAuthenticator | None = None
    # Whether a SESSION_COOKIE value names a live board session; None: no sessions on this site.
    sessions: Callable[[str], bool] | None = None

    @classmethod
    def of(
        cls,
        settings: Settings,
        *,
        local_token: str | None,
        authenticator: RequestAuthenticator | None,
        sessions: Callable[[str], bool] | None = None,
    ) -> EdgePolicy:
        # A cluster site is reached under names only its operator knows; its signatures guard it.
        hosts = None
        if not settings.insecure_open and not settings.http_auth and "*" not in settings.allowed_hosts:
            hosts = frozenset(h.lower() for h in settings.allowed_hosts)
        return cls(
            max_request_bytes=settings.max_request_bytes,
            max_upload_bytes=settings.max_upload_bytes,
            max_json_depth=settings.max_json_depth,
            allowed_hosts=hosts,
            local_token=local_token,
            authenticator=authenticator,
            sessions=sessions,
        )


class EdgeMiddleware:
    """ASGI middleware applying an :class:`EdgePolicy`; ``open_paths`` (the API docs) skip 2, 3 and 6."""

    def __init__(self, app: ASGIApp, *, policy: EdgePolicy, open_paths: Collection[str] = ()) -> None:
        self.app = app
        self.policy = policy
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # The API has no websockets; one must not reach the router unchecked.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        claim: Claim | None = None
        set_cookie = False
        try:
            headers = _headers(scope)
            self._check_host(headers)
            is_open = scope["path"] in self.open_paths
            if not is_open:
                set_cookie = self._check_token(scope, headers)
                claim = None if self._in_session(headers) else self._check_claim(headers)
            upload = scope["path"].startswith(UPLOAD_PREFIX) or scope["path"] in STREAMED_PATHS
            limit = self.policy.max_upload_bytes if upload else self.policy.max_request_bytes
            _check_length(headers, limit, upload)
            if upload:
                receive = self._streamed(scope, receive, headers, claim, limit)
            else:
                body, complete = await _read_body(receive, limit)
                if not complete:
                    return  # the client went away; nobody to answer
                _check_depth(body, self.policy.max_json_depth)
                if claim is not None and self.policy.authenticator is not None:
                    sent_digest = headers.get(BODY_SHA256.lower())
                    digest = body_digest(body)
                    if sent_digest is not None and not hmac.compare_digest(sent_digest.lower(), digest):
                        raise AuthenticationFailed(
                            f"header {BODY_SHA256} does not match the request body",
                            hint="send the hex SHA-256 of the exact body bytes, or leave the header out",
                        )
                    self.policy.authenticator.verify(claim, scope["method"], _target(scope), digest)
                receive = _replay(body, receive)
        except AccordError as error:
            _log_refusal(scope, headers, claim, error)
            signed = self.policy.authenticator is not None
            await _refuse(send, error, _CHALLENGE if signed else _BEARER_CHALLENGE)
            return
        if set_cookie:
            send = _with_token_cookie(send, self.policy.local_token or "")
        await self.app(scope, receive, send)

    def _check_host(self, headers: dict[str, str]) -> None:
        allowed = self.policy.allowed_hosts
        if allowed is None:
            return
        host = _host_name(headers.get("host", ""))
        if host not in allowed:
            raise HostNotAllowed(
                f"Host {host[:100]!r} is not a name of this site (allowed: {', '.join(sorted(allowed))})",
                hint="reach the site by one of those names, or add the name to allowed_hosts "
                "(ACCORD_ALLOWED_HOSTS, the site config's http.allowed_hosts)",
            )

    def _check_token(self, scope: Scope, headers: dict[str, str]) -> bool:
        """Whether the caller showed the local credential in the query (so it gets the cookie)."""
        token = self.policy.local_token
        if token is None:
            return False
        authorization = headers.get("authorization", "")
        if authorization[:7].lower() == "bearer " and _same(authorization[7:].strip(), token):
            return False
        if _same(_cookie(headers.get("cookie", ""), TOKEN_COOKIE), token):
            return False
        if scope["method"] == "GET":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if _same(next(iter(query.get(TOKEN_QUERY, [])), ""), token):
                return True
        raise AuthenticationFailed("the request does not carry this site's local credential", hint=_TOKEN_FIX)

    def _in_session(self, headers: dict[str, str]) -> bool:
        """A logged-in board's cookie stands for a signature; a request with signature headers is
        checked as signed, so a session never lends its standing to a bad signature."""
        sessions = self.policy.sessions
        if sessions is None or any(name.lower() in headers for name in HEADERS):
            return False
        return sessions(_cookie(headers.get("cookie", ""), SESSION_COOKIE))

    def _check_claim(self, headers: dict[str, str]) -> Claim | None:
        authenticator = self.policy.authenticator
        if authenticator is None:
            return None
        return authenticator.check_headers({name: headers.get(name.lower(), "") for name in HEADERS})

    def _streamed(
        self, scope: Scope, receive: Receive, headers: dict[str, str], claim: Claim | None, limit: int
    ) -> Receive:
        """The upload body as it arrives, counted against ``limit`` and, when signed, hashed and checked."""
        authenticator = self.policy.authenticator
        sent_digest = headers.get(BODY_SHA256.lower(), "").lower()
        if claim is not None and authenticator is not None:
            if not re.fullmatch(r"[0-9a-f]{64}", sent_digest):
                raise AuthenticationFailed(
                    f"a signed upload needs header {BODY_SHA256}: the hex SHA-256 of its body",
                    hint="the accord CLI sends it; other clients hash the file before sending it",
                )
            # The claim covers the announced digest; the bytes are held to it as they stream.
            authenticator.verify(claim, scope["method"], _target(scope), sent_digest)
        hasher = hashlib.sha256() if sent_digest else None
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise _too_large("max_upload_bytes", limit)
            if hasher is not None:
                hasher.update(chunk)
                if not message.get("more_body", False) and hasher.hexdigest() != sent_digest:
                    log.warning("refused upload %s: body does not match %s", scope["path"], BODY_SHA256)
                    raise AuthenticationFailed(
                        f"the uploaded bytes do not match header {BODY_SHA256}",
                        hint="the file changed while it was sent, or something altered it on the way; "
                        "upload it again",
                    )
            return message

        return counted


def _same(given: str, token: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode("utf-8", "replace"), token.encode())


def _headers(scope: Scope) -> dict[str, str]:
    """Headers by lower-case name; one the checks rely on may not come twice."""
    found: dict[str, str] = {}
    repeated: list[str] = []
    for raw_name, raw_value in scope["headers"]:
        name = bytes(raw_name).decode("latin-1").lower()
        # Header bytes are Latin-1 by definition; anything beyond ASCII is refused by the checks.
        value = bytes(raw_value).decode("latin-1")
        if name in found:
            if name == "cookie":
                found[name] = f"{found[name]}; {value}"
                continue
            if name in _SINGLE and name not in repeated:
                repeated.append(name)
        found[name] = value
    if repeated:
        # Two values would leave it open which one was checked or signed.
        names = ", ".join(n.upper() if n.upper() in HEADERS else n for n in repeated)
        raise AuthenticationFailed(
            f"header{'s' if len(repeated) > 1 else ''} {names} sent more than once",
            hint="send each of these headers once",
        )
    return found


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookie(header: str, name: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""


def _check_length(headers: dict[str, str], limit: int, upload: bool) -> None:
    raw = headers.get("content-length")
    if raw is not None and raw.isdigit() and int(raw) > limit:
        raise _too_large("max_upload_bytes" if upload else "max_request_bytes", limit, int(raw))


def _too_large(setting: str, limit: int, declared: int | None = None) -> RequestTooLarge:
    size = f"has {declared} bytes" if declared is not None else "is larger"
    fix = "split the file" if setting == "max_upload_bytes" else "keep JSON bodies small (stream files)"
    return RequestTooLarge(
        f"the request body {size}, more than this site's {setting} ({limit} bytes)",
        hint=f"{fix}, or raise {setting} (ACCORD_{setting.upper()})",
        limit=limit,
    )


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole body, refused as soon as it grows past ``limit``; False if the client went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", False
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large("max_request_bytes", limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def json_depth(body: bytes) -> int:
    """How deeply ``body``'s arrays and objects nest, counted without parsing (strings skipped)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _check_depth(body: bytes, limit: int) -> None:
    if body and json_depth(body) > limit:
        raise JsonSyntaxError(
            f"the request body nests arrays and objects more than {limit} levels deep (max_json_depth)",
            hint="flatten the DSL, conf or parameter; no FATE job needs that depth",
            limit=limit,
        )


def _target(scope: Scope) -> bytes:
    # raw_path is what the client sent and signed; a server that gives none gets the path re-encoded.
    raw_path = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
    query: bytes = scope.get("query_string", b"")
    return bytes(raw_path) + b"?" + query if query else bytes(raw_path)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that gives the app the already read body, then the client's later events."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        # Streaming replies listen here for the client going away.
        return await receive()

    return replayed


def _with_token_cookie(send: Send, token: str) -> Send:
    cookie = f"{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/".encode()

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
        await send(message)

    return sending


def _log_refusal(scope: Scope, headers: dict[str, str], claim: Claim | None, error: AccordError) -> None:
    client = scope.get("client")
    where = f"{client[0]}:{client[1]}" if client else "an unknown address"
    app_key = claim.app_key if claim else headers.get(APP_KEY.lower(), "")
    log.warning(
        "refused %s %s from %s%s: %s",
        scope["method"],
        _target(scope).decode("ascii", "replace")[:200],
        where,
        f" (app key {app_key[:64]!r})" if app_key else "",
        error.message,
    )


async def _refuse(send: Send, error: AccordError, challenge: bytes) -> None:
    content = {"retcode": error.code, "retmsg": error.retmsg, "data": None, "jobId": None}
    payload = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if isinstance(error, AuthenticationFailed):
        # RFC 9110 wants a challenge with every 401.
        headers.append((b"www-authenticate", challenge))
    await send({"type": "http.response.start", "status": http_status(error), "headers": headers})
    await send({"type": "http.response.body", "body": payload})
