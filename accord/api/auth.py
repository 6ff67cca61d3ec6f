"""Signed HTTP requests: an app key / secret scheme in the manner of FATE-Flow 1.x, checked at the edge.

In cluster mode (``http_auth``) the site answers only requests signed with an app key it knows
(``app_credentials``: app key → app secret); :mod:`accord.api.edge` runs the checks before any route.

Headers, all four required on every request::

    TIMESTAMP       milliseconds since the Unix epoch, decimal digits, e.g. 1634890066095; it may be
                    at most ``auth_max_skew_s`` (default 60 s) before or after the server's clock
    NONCE           a string used once per app key, 1 to 128 printable ASCII characters (a UUID does)
    APP_KEY         the app key
    SIGNATURE       base64 (standard alphabet, with padding) of HMAC-SHA256(app secret, signed string)

and, for a streamed upload (``/v1/data/upload…``), whose body the site cannot hold before checking::

    X-Content-SHA256  the lower-case hex SHA-256 of the body; the site hashes the bytes as they arrive
                      and refuses the upload at its last byte if they differ

The signed string is seven byte strings joined with one newline (0x0A) each, in this order::

    TIMESTAMP   the header's value
    NONCE       the header's value
    APP_KEY     the header's value
    method      the HTTP method in capitals: ``POST``, ``GET``
    target      the request path as sent on the wire (percent-encoded), then ``?`` and the query
                string when there is one: ``/v1/job/query``, ``/v1/table/list?x=1``
    body hash   the lower-case hex SHA-256 of the exact body bytes (of the empty string when there is
                no body: ``e3b0c442…52b855``)
    (empty)

so it always ends with a newline. The app secret is the HMAC key, as UTF-8 bytes. For app key
``my-app`` with secret ``s3cret`` signing ``POST /v1/job/list/job`` with body ``{"limit": 5}``::

    $ body_hash=$(printf '{"limit": 5}' | sha256sum | cut -d' ' -f1)
    $ printf '1634890066095\\nnonce-1\\nmy-app\\nPOST\\n/v1/job/list/job\\n%s\\n' "$body_hash" \\
        | openssl dgst -sha256 -hmac s3cret -binary | base64
    41dFiw6TeRs4/7Te3FN0GPj25GyRl8nyGl83H9UZcHA=

The layout is FATE-Flow 1.x's (timestamp, nonce, app key, path, body) with the method added and the
body replaced by its hash, so a signature cannot be moved to another method, nor a body swapped on
the way, and a streamed upload can be signed before it is sent.

A refused request gets HTTP 401 and the envelope ``{"retcode": 109, "retmsg": ..., "data": null,
"jobId": null}`` whose message says what is wrong and how to fix it; the refusal is logged. A replayed
(APP_KEY, NONCE) pair is refused for as long as its TIMESTAMP is fresh, also across a restart of the
server: fresh nonces are kept in a file under the site's home (``auth_nonces``, 0600). After that the
timestamp check refuses it. The API's own documentation pages stay open.

Proxies in front of the site must pass headers with underscores (nginx drops them unless
``underscores_in_headers on``) and must not rewrite the path or the body.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

from accord.errors import ArgumentError, AuthenticationFailed, ResourceInsufficient

log = logging.getLogger(__name__)

TIMESTAMP = "TIMESTAMP"
NONCE = "NONCE"
APP_KEY = "APP_KEY"
SIGNATURE = "SIGNATURE"
HEADERS = (TIMESTAMP, NONCE, APP_KEY, SIGNATURE)
BODY_SHA256 = "X-Content-SHA256"

MAX_NONCE_CHARS = 128
# Room for some 1,500 signed requests a second at the default skew, in a few tens of MB at most.
DEFAULT_MAX_NONCES = 100_000
_FIX = (
    "sign every request with an app key the site lists in app_credentials and its secret (accord CLI: "
    "`accord init --app-key KEY --app-secret SECRET`, or ACCORD_APP_KEY and ACCORD_APP_SECRET)"
)


def body_digest(body: bytes) -> str:
    """The body hash a signature covers: lower-case hex SHA-256."""
    return hashlib.sha256(body).hexdigest()


def signed_string(timestamp: str, nonce: str, app_key: str, method: str, target: bytes, digest: str) -> bytes:
    """The bytes a signature covers; see the module docstring."""
    parts = [timestamp.encode(), nonce.encode(), app_key.encode(), method.upper().encode(), target]
    return b"\n".join([*parts, digest.encode(), b""])


def signature(
    secret: str, timestamp: str, nonce: str, app_key: str, method: str, target: bytes, digest: str
) -> str:
    message = signed_string(timestamp, nonce, app_key, method, target, digest)
    return base64.b64encode(hmac.new(secret.encode(), message, "sha256").digest()).decode("ascii")


def signed_headers(
    app_key: str,
    secret: str,
    method: str,
    target: bytes,
    digest: str,
    *,
    now: float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers that sign ``method target`` carrying a body whose SHA-256 is ``digest``."""
    timestamp = str(round((time.time() if now is None else now) * 1000))
    nonce = nonce or str(uuid.uuid4())
    return {
        TIMESTAMP: timestamp,
        NONCE: nonce,
        APP_KEY: app_key,
        SIGNATURE: signature(secret, timestamp, nonce, app_key, method, target, digest),
    }


class Claim(NamedTuple):
    """What a request's headers claim, checked as far as can be without its body."""

    timestamp: str
    nonce: str
    app_key: str
    signature: str
    sent_at_s: float


class NonceFile:
    """Fresh nonces on disk, so a restart of the server does not reopen their requests to replay.

    One line per accepted nonce (``expiry app_key nonce``), appended and flushed to disk before the
    request runs; rewritten without the stale lines when it has grown well past the live ones.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines = 0

    def load(self, now: float) -> list[tuple[float, str, str]]:
        """The entries still fresh at ``now``; the file is rewritten with only them."""
        entries: list[tuple[float, str, str]] = []
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            text = ""
        for line in text.splitlines():
            expiry, _, rest = line.partition(" ")
            app_key, _, nonce = rest.partition(" ")
            try:
                expires = float(expiry)
            except ValueError:
                continue  # a line cut short by a crash
            if expires >= now and app_key and nonce:
                entries.append((expires, app_key, nonce))
        self.rewrite(entries)
        return entries

    def rewrite(self, entries: list[tuple[float, str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.writelines(f"{expires!r} {key} {nonce}\n" for expires, key, nonce in entries)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, self.path)
        self._lines = len(entries)

    def append(self, expires: float, app_key: str, nonce: str) -> None:
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="ascii") as out:
            out.write(f"{expires!r} {app_key} {nonce}\n")
            out.flush()
            os.fsync(out.fileno())
        self._lines += 1

    @property
    def lines(self) -> int:
        return self._lines


class RequestAuthenticator:
    """Checks the four signature headers and remembers nonces for as long as a replay could pass.

    ``clock`` gives seconds since the epoch (``time.time``); tests pass their own. At most
    ``max_nonces`` nonces are remembered: when that many fresh ones are held, further requests are
    refused until some age out, since forgetting a fresh nonce would let its request be replayed.
    With ``nonce_file`` the fresh nonces also outlive the process.
    """

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        max_skew_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        max_nonces: int = DEFAULT_MAX_NONCES,
        nonce_file: Path | None = None,
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
        self._file = NonceFile(nonce_file) if nonce_file is not None else None
        if self._file is not None:
            for expires, app_key, nonce in self._file.load(self._clock()):
                self._remember((app_key, nonce), expires)

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

    def verify(self, claim: Claim, method: str, target: bytes, digest: str) -> None:
        """Accept the request, remembering its nonce, or refuse a bad signature or a replay."""
        secret = self._secrets[claim.app_key]
        expected = signature(secret, claim.timestamp, claim.nonce, claim.app_key, method, target, digest)
        if not hmac.compare_digest(expected.encode(), claim.signature.encode()):
            raise AuthenticationFailed(
                f"header SIGNATURE does not match the request for app key {claim.app_key!r}",
                hint="sign with that key's secret over the method, the exact path and query, and the "
                "SHA-256 of the body bytes sent (see accord.api.auth for the signed string)",
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
        self._remember(key, expires)
        if self._file is not None:
            if self._file.lines > 2 * len(self._nonces) + 1000:
                self._file.rewrite([(at, k, n) for (k, n), at in self._nonces.items()])
            else:
                self._file.append(expires, *key)

    def authenticate(self, headers: Mapping[str, str], method: str, target: bytes, body: bytes) -> str:
        """Both checks at once; the app key the request was signed with."""
        claim = self.check_headers(headers)
        self.verify(claim, method, target, body_digest(body))
        return claim.app_key

    def _remember(self, key: tuple[str, str], expires: float) -> None:
        self._nonces[key] = expires
        heapq.heappush(self._expiry, (expires, key))

    def _forget_stale(self, now: float) -> None:
        # Kept through the very instant its timestamp still passes (|skew| equal to the limit).
        while self._expiry and self._expiry[0][0] < now:
            expires, key = heapq.heappop(self._expiry)
            if self._nonces.get(key) == expires:
                del self._nonces[key]


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable() and " " not in value
