"""The board's link to a job, as ``accord job submit`` and ``accord demo`` print it."""

from __future__ import annotations

from urllib.parse import quote

from accord.security.local_token import read_local_token
from accord.settings import Settings

# A server listening on every address is reached on loopback from this machine.
_ANY = frozenset({"0.0.0.0", "::", ""})


def board_address(settings: Settings) -> str:
    host = settings.http_host
    if host in _ANY:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}"


def board_link(settings: Settings, job_id: str | None = None) -> str:
    """The board (at a job when given). A standalone site's link carries its local credential, as
    Jupyter's does, so it opens without a login step; the page then holds it in an HttpOnly cookie
    and drops it from the address bar. A cluster site's board asks for an app key instead."""
    query = ""
    if not settings.http_auth and not settings.insecure_open:
        token = read_local_token(settings.home)
        if token:
            query = f"?token={quote(token, safe='')}"
    fragment = f"#/job/{quote(job_id, safe='')}" if job_id else ""
    return f"{board_address(settings)}/board/{query}{fragment}"
