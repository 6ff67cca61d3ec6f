"""The board's HTTP side: its pages and assets under ``/board/``, and its JSON and event endpoints.

The pages are plain files from ``accord/board/static`` (no build step); charts are ECharts, shipped in
``static/vendor``. Everything else the pages show comes from the site's API: ``/v1/board/...`` here,
and FATE-Flow's own endpoints (``/v1/tracking/...``, ``/v1/job/stop``, ``/v1/job/rerun``, ``/v1/model/
...``) for the rest. Live updates are server-sent events (``/v1/board/events``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from accord import __version__
from accord.api.auth import APP_KEY
from accord.api.edge import SESSION_COOKIE
from accord.api.schemas import Envelope, JobId, ModelId, ModelVersion, PartyId, Role
from accord.board.queries import JobFilter
from accord.board.sessions import BoardSessions
from accord.board.views import BoardViews
from accord.errors import ArgumentError, AuthenticationFailed

if TYPE_CHECKING:
    from accord.server import Site

STATIC = Path(__file__).parent / "static"
PAGE = "/board/"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".png": "image/png"}
# The board's own files only; ECharts sets inline styles, and charts export as data: images.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
EVENT_PERIOD_S = 1.0
# A stream ends after this long and the browser opens another, so no connection lives for ever.
STREAM_LIFETIME_S = 300.0
_KEEPALIVE_S = 15.0


def static_files() -> dict[str, Path]:
    """URL path → file, for every file the board serves (nothing outside ``static``)."""
    return {
        f"/board/static/{path.relative_to(STATIC).as_posix()}": path
        for path in sorted(STATIC.rglob("*"))
        if path.is_file() and path.suffix in _TYPES
    }


class Board:
    """The board of one site. ``sessions``: cluster mode, where the browser logs in (see sessions)."""

    def __init__(self, views: BoardViews, *, sessions: BoardSessions | None = None) -> None:
        self.views = views
        self.sessions = sessions
        self._closing = asyncio.Event()

    def close(self) -> None:
        """Ends the event streams, so the HTTP server's shutdown does not wait on open boards."""
        self._closing.set()

    def open_paths(self) -> list[str]:
        """Paths the edge lets through unauthenticated: in cluster mode the page and its files, which
        hold no data, so the login form can load. A standalone board opens with its link's token."""
        if self.sessions is None:
            return []
        return ["/", PAGE, *static_files()]

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        self._pages(router)
        self._session_routes(router)
        self._job_routes(router)
        self._model_routes(router)
        return router

    # ---- pages -------------------------------------------------------------------------------

    def _pages(self, router: APIRouter) -> None:
        files = static_files()

        @router.get("/")
        async def root() -> Response:
            return RedirectResponse(PAGE, status_code=303)

        @router.get("/board")
        async def bare() -> Response:
            return RedirectResponse(PAGE, status_code=303)

        @router.get(PAGE)
        async def index() -> Response:
            return FileResponse(STATIC / "index.html", media_type="text/html", headers=_HEADERS)

        @router.get("/board/static/{name:path}")
        async def asset(name: str) -> Response:
            path = files.get(f"/board/static/{name}")
            if path is None:
                return JSONResponse(
                    {"retcode": 404, "retmsg": f"no board file {name[:200]}", "data": None, "jobId": None},
                    status_code=404,
                )
            return FileResponse(path, media_type=_TYPES[path.suffix], headers=_HEADERS)

    # ---- session -----------------------------------------------------------------------------

    def _session_routes(self, router: APIRouter) -> None:
        views = self.views

        @router.get("/v1/board/session")
        async def session(request: Request) -> Envelope[dict[str, Any]]:
            """Who the board is: mode, the parties it shows, the app key that logged in."""
            app_key = None
            if self.sessions is not None:
                found = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
                app_key = found.app_key if found else request.headers.get(APP_KEY)
            return Envelope(
                data={
                    "mode": "cluster" if self.sessions is not None else "standalone",
                    "app_key": app_key,
                    "parties": list(views.parties),
                    "version": __version__,
                    "temporal_ui": views.settings.temporal_ui_address,
                }
            )

        @router.post("/v1/board/login")
        async def login(request: Request) -> Response:
            """Cluster mode: a request signed with an app key opens a session (an HttpOnly cookie)."""
            app_key = request.headers.get(APP_KEY)
            if self.sessions is None:
                raise ArgumentError(
                    "this site has no board login: it is a standalone site",
                    hint="open the link `accord job submit` or `accord demo` prints",
                )
            if not app_key:
                # The edge checked the signature of any request that has one; this one had none.
                raise AuthenticationFailed(
                    "a board login must be a signed request", hint="log in with an app key and secret"
                )
            session_id = self.sessions.open(app_key)
            reply = JSONResponse({"retcode": 0, "retmsg": "success", "data": {"app_key": app_key}})
            reply.set_cookie(
                SESSION_COOKIE,
                session_id,
                max_age=int(self.sessions.ttl_s),
                path="/",
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
            return reply

        @router.post("/v1/board/logout")
        async def logout(request: Request) -> Response:
            if self.sessions is not None:
                self.sessions.close(request.cookies.get(SESSION_COOKIE, ""))
            reply = JSONResponse({"retcode": 0, "retmsg": "success", "data": None})
            reply.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
            return reply

    # ---- jobs --------------------------------------------------------------------------------

    def _job_routes(self, router: APIRouter) -> None:
        views = self.views

        @router.get("/v1/board/jobs")
        async def jobs(
            status: Annotated[str | None, Query(max_length=16)] = None,
            role: Annotated[str | None, Query(max_length=32)] = None,
            party_id: Annotated[int | None, Query(ge=0)] = None,
            since: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
            until: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD, inclusive")] = None,
            q: Annotated[str | None, Query(max_length=64, description="part of a job id")] = None,
            component: Annotated[str | None, Query(max_length=128)] = None,
            page: Annotated[int, Query(ge=1, le=100_000)] = 1,
            size: Annotated[int, Query(ge=1, le=100)] = 20,
        ) -> Envelope[dict[str, Any]]:
            """One page of the site's job rows (one per hosted party), newest first."""
            wanted = JobFilter(
                status=status or None,
                role=role or None,
                party_id=party_id,
                since=_day(since, "since"),
                until=_day(until, "until", next_day=True),
                search=q or None,
                component=component or None,
            )
            return Envelope(data=await asyncio.to_thread(views.job_page, wanted, page, size))

        @router.get("/v1/board/job")
        async def job(job_id: Annotated[JobId, Query()]) -> Envelope[dict[str, Any]]:
            """A job: its graph, each component's status and error, parties, DSL, conf, parameters."""
            return Envelope(data=await views.job(job_id), jobId=job_id)

        @router.get("/v1/board/component")
        async def component(
            job_id: Annotated[JobId, Query()], name: Annotated[str, Query(min_length=1, max_length=128)]
        ) -> Envelope[dict[str, Any]]:
            """A component: parameters per party, every task version per party, its status and error."""
            return Envelope(data=await views.component(job_id, name), jobId=job_id)

        @router.get("/v1/board/log")
        async def log(
            job_id: Annotated[JobId, Query()],
            role: Annotated[Role, Query()],
            party_id: Annotated[PartyId, Query()],
            component: Annotated[str | None, Query(max_length=128)] = None,
        ) -> Envelope[list[str]]:
            """One party's schedule log of the job, or its lines about one component."""
            lines = await asyncio.to_thread(views.log_lines, job_id, role, party_id, component)
            return Envelope(data=lines, jobId=job_id)

        @router.get("/v1/board/events")
        async def events(
            request: Request, job_id: Annotated[JobId | None, Query()] = None
        ) -> StreamingResponse:
            """Server-sent events: ``job`` (the job's live status) with job_id, else ``jobs`` (a change
            marker of the job list); ``end`` once the job has ended."""
            if job_id is not None:
                await asyncio.to_thread(views.rows, job_id)  # a 404 now, not an empty stream
            stream = self._stream(request, job_id)
            headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    async def _stream(self, request: Request, job_id: str | None) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        started = last_sent = loop.time()
        previous = None
        yield "retry: 2000\n\n"
        while not self._closing.is_set() and loop.time() - started < STREAM_LIFETIME_S:
            if await request.is_disconnected():
                return
            if job_id is None:
                event, payload = "jobs", await asyncio.to_thread(self.views.marker)
                text = json.dumps({"marker": payload})
            else:
                snapshot = await self.views.status(job_id)
                event, text = "job", json.dumps(snapshot)
            if text != previous:
                previous, last_sent = text, loop.time()
                yield f"event: {event}\ndata: {text}\n\n"
                if job_id is not None and json.loads(text)["ended"]:
                    yield "event: end\ndata: {}\n\n"
                    return
            elif loop.time() - last_sent > _KEEPALIVE_S:
                last_sent = loop.time()
                yield ": keepalive\n\n"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), EVENT_PERIOD_S)

    # ---- models ------------------------------------------------------------------------------

    def _model_routes(self, router: APIRouter) -> None:
        views = self.views

        @router.get("/v1/board/models")
        async def models() -> Envelope[list[dict[str, Any]]]:
            """Model versions of the hosted parties, with whether each is deployed, loaded, bound."""
            return Envelope(data=await asyncio.to_thread(views.model_list))

        @router.get("/v1/board/model/predict-dsl")
        async def predict_dsl(
            model_id: Annotated[ModelId, Query()], model_version: Annotated[ModelVersion, Query()]
        ) -> Envelope[dict[str, Any]]:
            return Envelope(data=await asyncio.to_thread(views.predict_dsl, model_id, model_version))


def _day(text: str | None, field: str, *, next_day: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ArgumentError(
            f"{field} must be a date as YYYY-MM-DD, not {text!r}", hint="e.g. 2024-05-01"
        ) from None
    if next_day:
        day += timedelta(days=1)
    return day


def site_board(site: Site, sessions: BoardSessions | None) -> Board:
    """The board of a started site (:func:`accord.server.start_site`)."""
    from accord.board.queries import BoardQueries
    from accord.persistence import JobRepository, TaskRepository

    views = BoardViews(
        site.settings,
        site.temporal,
        JobRepository(site.database),
        TaskRepository(site.database),
        BoardQueries(site.database),
        models=site.models,
        deployment=site.deployment,
    )
    return Board(views, sessions=sessions)
