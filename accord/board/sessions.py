"""Board sessions of a cluster site: a browser logs in once with a signed request, then holds a cookie.

A cluster site's HTTP edge takes only signed requests. A browser could sign each one itself, but
``EventSource`` (the live job view) cannot add headers, and Web Crypto exists only on https or
loopback pages. So the board signs one request, ``POST /v1/board/login``, with the app key and secret
the user types (the secret never leaves the page: only the HMAC does); the edge checks it as any other
and the site answers with a random session id in an ``HttpOnly; SameSite=Strict`` cookie, which the
edge then accepts in place of a signature (:meth:`BoardSessions.valid`) until it expires or the user
logs out. Sessions live in the server's memory: a restart logs every board out.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

SESSION_TTL_S = 8 * 3600
# Far more than the browsers of a site's operators; bounds the memory a flood of logins can take.
MAX_SESSIONS = 1000


@dataclass(frozen=True)
class Session:
    app_key: str
    expires: float


class BoardSessions:
    """Session ids → the app key that logged in; ``clock`` gives seconds (``time.monotonic``)."""

    def __init__(self, *, ttl_s: float = SESSION_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, app_key: str) -> str:
        now = self._clock()
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._expire(now)
            if len(self._sessions) >= MAX_SESSIONS:
                # The oldest goes: its user logs in again, nobody is locked out.
                oldest = min(self._sessions, key=lambda key: self._sessions[key].expires)
                del self._sessions[oldest]
            self._sessions[session_id] = Session(app_key, now + self.ttl_s)
        return session_id

    def get(self, session_id: str) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            found = self._sessions.get(session_id)
            if found is None or found.expires < self._clock():
                self._sessions.pop(session_id, None)
                return None
            return found

    def valid(self, session_id: str) -> bool:
        """What the edge asks: does this cookie value name a live session?"""
        return self.get(session_id) is not None

    def close(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _expire(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if s.expires < now]:
            del self._sessions[key]
