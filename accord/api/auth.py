"""Signed HTTP requests: FATE-Flow 1.x's app key / secret scheme, checked before any route runs.

In cluster mode (``http_auth``) the site answers only requests signed with an app key it knows
(``app_credentials``: app key → app secret). Standalone sites run without it, open on loopback.

Headers, all four required on every request::

    TIMESTAMP   milliseconds since the Unix epoch, decimal digits, e.g. 1634890066095; it may be at
                most ``auth_max_skew_s`` (default 60 s) before or after the server's clock
    NONCE       a string used once per app key, 1 to 128 printable ASCII characters (a UUID does)
    APP_KEY     the app key
    SIGNATURE   base64 (standard alphabet, with padding) of HMAC-SHA256(app secret, signed string)

The signed string is six byte strings joined with one newline (0x0A) each, in this order::

    TIMESTAMP   the header's value
    NONCE       the header's value
    APP_KEY     the header's value
    target      the request path as sent on the wire (percent-encoded), then ``?`` and the query
                string when there is one: ``/v1/job/query``, ``/v1/table/list?x=1``
    body        the exact bytes of the request body; empty when there is none
    (empty)     FATE-Flow signs form fields here; Accord takes no forms, so it is always empty

so it always ends with a newline. The app secret is the HMAC key, as UTF-8 bytes. For app key
``my-app`` with secret ``s3cret`` signing ``POST /v1/job/list/job`` with body ``{"limit": 5}``::

    $ printf '1634890066095\\nnonce-1\\nmy-app\\n/v1/job/list/job\\n{"limit": 5}\\n' \\
        | openssl dgst -sha256 -hmac s3cret -binary | base64
    3vF7eY5072WfKJTv3/aWBAQ6IasT0ZCrg8fbVnZV0C8=

This is FATE-Flow 1.x's layout (its flow client and server sign exactly these elements), so a
signature made with HMAC-SHA1 instead, as FATE-Flow 1.x clients make it, is accepted too; the two
are told apart by length (28 base64 characters for SHA-1, 44 for SHA-256).

A refused request gets HTTP 401 and the envelope ``{"retcode": 109, "retmsg": ..., "data": null,
"jobId": null}`` whose message says what is wrong and how to fix it; the refusal is logged on
``accord.api.auth``. A replayed (APP_KEY, NONCE) pair is refused for as long as its TIMESTAMP is
fresh; after that the timestamp check refuses it. The API's own documentation pages stay open.

Proxies in front of the site must pass headers with underscores (nginx drops them unless
``underscores_in_headers on``) and must not rewrite the path or the body.
"""

from __future__ import annotations

import base64
import heapq
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote

from accord.errors import AccordError, ArgumentError, AuthenticationFailed, ResourceInsufficient, http_status

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

TIMESTAMP = "TIMESTAMP"
NONCE = "NONCE"
APP_KEY = "APP_KEY"
SIGNATURE = "SIGNATURE"
HEADERS = (TIMESTAMP, NONCE, APP_KEY, SIGNATURE)

MAX_NONCE_CHARS = 128
# Room for some 1,500 signed requests a second at the default skew, in a few tens of MB at most.
DEFAULT_MAX_NONCES = 100_000
_SHA1_SIGNATURE_CHARS = 28  # len(base64 of a 20-byte digest)
_CHALLENGE = b'Signature realm="accord", headers="TIMESTAMP NONCE APP_KEY SIGNATURE"'
_FIX = (
    "sign every request with an app key the site lists in app_credentials and its secret (accord CLI: "
    "`accord init --app-key KEY --app-secret SECRET`, or ACCORD_APP_KEY and ACCORD_APP_SECRET)"
)


def signed_string(timestamp: str, nonce: str, app_key: str, target: bytes, body: bytes) -> bytes:
    """The bytes a signature covers; see the module docstring."""
    return b"\n".join([timestamp.encode(), nonce.encode(), app_key.encode(), target, body, b""])


def signature(
    secret: str,
    timestamp: str,
    nonce: str,
    app_key: str,
    target: bytes,
    body: bytes,
    *,
    digest: str = "sha256",
) -> str:
    message = signed_string(timestamp, nonce, app_key, target, body)
    return base64.b64encode(hmac.new(secret.encode(), message, digest).digest()).decode("ascii")


def signed_headers(
    app_key: str,
    secret: str,
    target: bytes,
    body: bytes,
    *,
    now: float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers that sign a request to ``target`` (path and query) carrying ``body``."""
    timestamp = str(round((time.time() if now is None else now) * 1000))
    nonce = nonce or str(uuid.uuid4())
    return {
        TIMESTAMP: timestamp,
        NONCE: nonce,
        APP_KEY: app_key,
        SIGNATURE: signature(secret, timestamp, nonce, app_key, target, body),
    }


class Claim(NamedTuple):
    """What a request's headers claim, checked as far as can be without its body."""

    timestamp: str
    nonce: str
    app_key: str
    signature: str
    sent_at_s: float


class RequestAuthenticator:
    """Checks the four signature headers and remembers nonces for as long as a replay could pass.

    ``clock`` gives seconds since the epoch (``time.time``); tests pass their own. At most
    ``max_nonces`` nonces are remembered: when that many fresh ones are held, further requests are
    refused until some age out, since forgetting a fresh nonce would let its request be replayed.
    """

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        max_skew_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        max_nonces: int = DEFAULT_MAX_NONCES,
    ) -> None:
        if not credentials:
            raise ArgumentError(
                "signed requests need at least one app key", hint="add one to app_credentials"
            )
        for key, secret in credentials.items():
            if not key or not _printable_ascii(key):
                raise ArgumentError(
                    f"app key {key!r} cannot travel in a header",
                    hint="use printable ASCII without spaces for app keys",
                )
            if not secret:
                raise ArgumentError(f"app key {key!r} has an empty secret", hint="give it a secret")
        if max_skew_s <= 0 or max_nonces < 1:
            raise ArgumentError("auth_max_skew_s must be positive and max_nonces at least 1")
        self._secrets = dict(credentials)
        self.max_skew_s = max_skew_s
        self._clock = clock
        self._max_nonces = max_nonces
        # (app key, nonce) → when its timestamp goes stale; the heap orders the same entries by that
        # time so the stale ones are dropped cheaply.
        self._nonces: dict[tuple[str, str], float] = {}
        self._expiry: list[tuple[float, tuple[str, str]]] = []

    def check_headers(self, headers: Mapping[str, str]) -> Claim:
        """The request's claim, refused early when headers are missing, malformed, stale or unknown.

        Runs before the body is read, so a request that cannot pass costs no body buffering.
        """
        missing = [name for name in HEADERS if not headers.get(name)]
        if missing:
            raise AuthenticationFailed(
                f"the request is not signed: header{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} missing",
                hint=_FIX,
            )
        for name in HEADERS:
            if not _printable_ascii(headers[name]):
                raise AuthenticationFailed(
                    f"header {name} is not printable ASCII", hint="send it as the scheme describes"
                )
        raw_time, nonce, app_key = headers[TIMESTAMP], headers[NONCE], headers[APP_KEY]
        if not raw_time.isdigit() or len(raw_time) > 16:
            raise AuthenticationFailed(
                f"header TIMESTAMP {raw_time[:32]!r} is not milliseconds since the Unix epoch",
                hint="send the time of signing as whole milliseconds, e.g. 1634890066095",
            )
        sent_at_s = int(raw_time) / 1000
        off_s = sent_at_s - self._clock()
        if abs(off_s) > self.max_skew_s:
            when = "ahead of" if off_s > 0 else "behind"
            raise AuthenticationFailed(
                f"header TIMESTAMP is {abs(off_s):.0f} s {when} the server's clock, more than the "
                f"{self.max_skew_s:g} s allowed",
                hint="sign each request when it is sent, and keep the client's clock in sync (NTP)",
            )
        if len(nonce) > MAX_NONCE_CHARS:
            raise AuthenticationFailed(
                f"header NONCE is longer than {MAX_NONCE_CHARS} characters", hint="use a UUID"
            )
        if app_key not in self._secrets:
            raise AuthenticationFailed(f"unknown APP_KEY {app_key[:64]!r}", hint=_FIX)
        return Claim(raw_time, nonce, app_key, headers[SIGNATURE], sent_at_s)

    def verify(self, claim: Claim, target: bytes, body: bytes) -> None:
        """Accept the request, remembering its nonce, or refuse a bad signature or a replay."""
        secret = self._secrets[claim.app_key]
        digest = "sha1" if len(claim.signature) == _SHA1_SIGNATURE_CHARS else "sha256"
        expected = signature(secret, claim.timestamp, claim.nonce, claim.app_key, target, body, digest=digest)
        if not hmac.compare_digest(expected.encode(), claim.signature.encode()):
            raise AuthenticationFailed(
                f"header SIGNATURE does not match the request for app key {claim.app_key!r}",
                hint="sign with that key's secret over the exact path, query and body bytes sent "
                "(see accord.api.auth for the signed string)",
            )
        now = self._clock()
        self._forget_stale(now)
        key = (claim.app_key, claim.nonce)
        if key in self._nonces:
            raise AuthenticationFailed(
                f"header NONCE {claim.nonce!r} was already used by app key {claim.app_key!r}",
                hint="send a fresh nonce (a new UUID) with every request; never resend signed headers",
            )
        if len(self._nonces) >= self._max_nonces:
            raise ResourceInsufficient(
                f"the site holds {self._max_nonces} fresh nonces already and cannot check this one "
                "for replay",
                hint="retry in a few seconds, or send fewer requests at once",
            )
        # Fresh until its timestamp is refused anyway.
        expires = claim.sent_at_s + self.max_skew_s
        self._nonces[key] = expires
        heapq.heappush(self._expiry, (expires, key))

    def authenticate(self, headers: Mapping[str, str], target: bytes, body: bytes) -> str:
        """Both checks at once; the app key the request was signed with."""
        claim = self.check_headers(headers)
        self.verify(claim, target, body)
        return claim.app_key

    def _forget_stale(self, now: float) -> None:
        # Kept through the very instant its timestamp still passes (|skew| equal to the limit).
        while self._expiry and self._expiry[0][0] < now:
            # A nonce is only remembered again once this entry is gone, so each has one entry.
            del self._nonces[heapq.heappop(self._expiry)[1]]


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable() and " " not in value


class SignatureMiddleware:
    """ASGI middleware refusing every request not signed per :class:`RequestAuthenticator`.

    The body is read once here to check the signature, then handed to the app unchanged.
    """

    def __init__(
        self, app: ASGIApp, *, authenticator: RequestAuthenticator, open_paths: Collection[str] = ()
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # The API has no websockets; an unauthenticated one must not reach the router either.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        target = _target(scope)
        headers, repeated = _headers(scope)
        claim: Claim | None = None
        try:
            if repeated:
                # Two values would leave it open which one was signed.
                raise AuthenticationFailed(
                    f"header{'s' if len(repeated) > 1 else ''} {', '.join(repeated)} sent more than once",
                    hint="send each signature header once",
                )
            claim = self.authenticator.check_headers(headers)
            body, complete = await _read_body(receive)
            if not complete:
                return  # the client went away; nobody to answer
            self.authenticator.verify(claim, target, body)
        except AccordError as error:
            app_key = claim.app_key if claim else headers.get(APP_KEY, "")
            log.warning(
                "refused %s %s from %s (app key %r): %s",
                scope["method"],
                target.decode("ascii", "replace"),
                _client(scope),
                app_key[:64],
                error.message,
            )
            await _refuse(send, error)
            return
        await self.app(scope, _replay(body, receive), send)


def _target(scope: Scope) -> bytes:
    # raw_path is what the client sent and signed; a server that gives none gets the path re-encoded.
    raw_path = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
    query: bytes = scope.get("query_string", b"")
    return bytes(raw_path) + b"?" + query if query else bytes(raw_path)


def _headers(scope: Scope) -> tuple[dict[str, str], list[str]]:
    """The signature headers by their upper-case names, and those of them sent more than once."""
    wanted = {name.lower().encode(): name for name in HEADERS}
    found: dict[str, str] = {}
    repeated: list[str] = []
    for raw_name, raw_value in scope["headers"]:
        name = wanted.get(bytes(raw_name).lower())
        if name is None:
            continue
        if name in found and name not in repeated:
            repeated.append(name)
        # HTTP header bytes are Latin-1 by definition; anything beyond ASCII is refused later.
        found[name] = bytes(raw_value).decode("latin-1")
    return found, repeated


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "an unknown address"


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and whether it arrived before the client disconnected."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


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


async def _refuse(send: Send, error: AccordError) -> None:
    content = {"retcode": error.code, "retmsg": error.retmsg, "data": None, "jobId": None}
    payload = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if isinstance(error, AuthenticationFailed):
        # RFC 9110 wants a challenge with every 401; this one names the scheme's headers.
        headers.append((b"www-authenticate", _CHALLENGE))
    await send({"type": "http.response.start", "status": http_status(error), "headers": headers})
    await send({"type": "http.response.body", "body": payload})
