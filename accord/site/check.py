"""``accord site check``: is this site ready to take part in a federation?

Each check is independent and reports what it found and, on failure, what to do; one broken part
(say, a peer that is down) does not hide the state of the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import text

from accord.errors import AccordError
from accord.federation.client import FederationClient
from accord.federation.routes import RouteTable
from accord.federation.tls import TlsMaterial
from accord.persistence import Database
from accord.settings import Settings
from accord.temporal_client import connect


class CheckResult(BaseModel):
    name: str
    ok: bool
    detail: str
    elapsed_ms: int


@dataclass(frozen=True)
class _Failure(Exception):
    detail: str


async def _timed(name: str, check: Callable[[], Awaitable[str]]) -> CheckResult:
    started = time.monotonic()
    try:
        detail, ok = await check(), True
    except _Failure as failure:
        detail, ok = failure.detail, False
    except AccordError as error:
        detail, ok = error.retmsg + (f" ({error.hint})" if error.hint else ""), False
    except Exception as error:  # a check reports any failure of the part it probes
        detail, ok = f"{type(error).__name__}: {error}", False
    return CheckResult(name=name, ok=ok, detail=detail, elapsed_ms=round((time.monotonic() - started) * 1000))


async def check_site(settings: Settings, *, timeout_s: float = 5.0) -> list[CheckResult]:
    """Config, database, Temporal, TLS material, then one ping per peer route."""

    async def config() -> str:
        if not settings.local_party_ids:
            return "no party_ids: this site hosts every party (standalone)"
        return f"hosts parties {', '.join(map(str, settings.local_party_ids))}; home {settings.home}"

    async def database() -> str:
        def probe() -> str:
            db = Database.from_settings(settings)
            try:
                with db.engine.connect() as connection:
                    connection.execute(text("select 1"))
                return f"{db.engine.url.render_as_string(hide_password=True)} answers"
            finally:
                db.dispose()

        return await asyncio.wait_for(asyncio.to_thread(probe), timeout_s)

    async def temporal() -> str:
        client = await asyncio.wait_for(connect(settings), timeout_s)
        await asyncio.wait_for(client.service_client.check_health(), timeout_s)
        return f"{settings.temporal_address}, namespace {settings.temporal_namespace}"

    async def tls() -> str:
        material = TlsMaterial.from_settings(settings)
        if material is None:
            if settings.routes or settings.default_route:
                raise _Failure(
                    "peers are routed but federation runs without TLS: set federation.tls (ca, cert, key)"
                )
            return "off (standalone)"
        named = material.party_ids
        missing = set(settings.local_party_ids) - named
        if missing:
            raise _Failure(
                f"the certificate names parties {sorted(named)}, not {sorted(missing)}: issue one with "
                "`accord cert site --party-id ...` for every party the site hosts"
            )
        return f"certificate for parties {', '.join(map(str, sorted(named)))}"

    results = list(
        await asyncio.gather(
            _timed("config", config),
            _timed("database", database),
            _timed("temporal", temporal),
            _timed("tls", tls),
        )
    )
    routes = RouteTable.from_settings(settings)
    if not settings.routes:
        return results
    try:
        material = TlsMaterial.from_settings(settings)
    except AccordError:
        material = None  # reported by the tls check above
    async with FederationClient(routes, timeout_s=timeout_s, attempts=1, tls=material) as client:

        def ping(party_id: int, address: str) -> Callable[[], Awaitable[str]]:
            async def probe() -> str:
                pong = await client.ping(party_id)
                if pong.site_party_ids and party_id not in pong.site_party_ids:
                    raise _Failure(
                        f"{address} answers but hosts parties {list(pong.site_party_ids)}, not {party_id}: "
                        "fix the route"
                    )
                return f"{address} answers (accord {pong.version})"

            return probe

        results += await asyncio.gather(
            *(
                _timed(f"route {party_id}", ping(party_id, address))
                for party_id, address in routes.routes.items()
            )
        )
    return results
