"""A cluster site's board: one signed login request, then a session cookie the edge takes instead.

The real app behind the real edge, with a real authenticator and a site on the test's Temporal; the
browser part runs Debian's Chromium against a real uvicorn on loopback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from accord.api.app import create_app
from accord.api.auth import RequestAuthenticator, body_digest, signed_headers
from accord.api.edge import SESSION_COOKIE, EdgePolicy
from accord.board.router import site_board
from accord.board.sessions import BoardSessions
from tests.board.browser import CHROMIUM, FLAGS, artifacts
from tests.http_server import serve_http
from tests.scheduling.harness import RunningSite
from tests.support import free_port

KEY, SECRET = "board-admin", "a long board secret"
on_session_loop = pytest.mark.asyncio(loop_scope="session")


def _app(site: RunningSite, sessions: BoardSessions) -> object:
    authenticator = RequestAuthenticator({KEY: SECRET}, max_skew_s=60.0)
    edge = EdgePolicy(authenticator=authenticator, sessions=sessions.valid)
    return create_app(
        site.site.jobs, tracking=site.site.tracking, edge=edge, board=site_board(site.site, sessions)
    )


@pytest_asyncio.fixture(loop_scope="session")
async def board_api(site: RunningSite) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(site, BoardSessions()))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://site.test") as client:
        yield client


def _login_headers(key: str = KEY, secret: str = SECRET) -> dict[str, str]:
    return signed_headers(key, secret, "POST", b"/v1/board/login", body_digest(b""))


@on_session_loop
async def test_login_opens_a_session_the_edge_accepts(board_api: httpx.AsyncClient) -> None:
    assert (await board_api.get("/v1/board/jobs")).status_code == 401
    # The page and its files hold no data: they load, so the login form can.
    assert (await board_api.get("/board/")).status_code == 200
    assert (await board_api.get("/board/static/board.js")).status_code == 200
    assert (await board_api.get("/board/static/../../server.py")).status_code in (401, 404)

    assert (
        await board_api.post("/v1/board/login", headers=_login_headers(secret="wrong"))
    ).status_code == 401
    reply = await board_api.post("/v1/board/login", headers=_login_headers())
    assert reply.status_code == 200, reply.text
    cookie = reply.headers["set-cookie"]
    assert (
        cookie.startswith(f"{SESSION_COOKIE}=")
        and "HttpOnly" in cookie
        and "samesite=strict" in cookie.lower()
    )

    listed = await board_api.get("/v1/board/jobs")
    assert listed.status_code == 200 and listed.json()["retcode"] == 0
    session = (await board_api.get("/v1/board/session")).json()["data"]
    assert session["mode"] == "cluster" and session["app_key"] == KEY

    # A request with signature headers is checked as signed, cookie or not.
    forged = {**_login_headers(), "SIGNATURE": "AAAA"}
    assert (await board_api.get("/v1/board/jobs", headers=forged)).status_code == 401

    await board_api.post("/v1/board/logout")
    board_api.cookies.clear()
    board_api.cookies.set(SESSION_COOKIE, cookie.split(";")[0].split("=", 1)[1])
    assert (await board_api.get("/v1/board/jobs")).status_code == 401


@on_session_loop
async def test_login_in_the_browser(site: RunningSite, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium")
    from playwright.async_api import async_playwright

    server = serve_http(_app(site, BoardSessions()), "127.0.0.1", free_port())
    async with server as address, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 800})
            await page.goto(f"{address}/board/")
            await page.fill("#app-key", KEY)
            await page.fill("#app-secret", "not the secret")
            await page.click("#login button[type=submit]")
            await page.wait_for_selector("#login .error")
            await page.fill("#app-secret", SECRET)
            await page.click("#login button[type=submit]")
            await page.wait_for_selector("#job-filters")
            assert KEY in await page.inner_text("#who")
            await page.screenshot(path=str(artifacts(tmp_path) / "cluster_login.png"))
            # The page's own SHA-256 (for plain-http sites without Web Crypto) signs as Python does.
            ours = await page.evaluate("AccordSign.hmacBase64('k', 'message')")
            import base64
            import hmac

            assert ours == base64.b64encode(hmac.new(b"k", b"message", "sha256").digest()).decode()
        finally:
            await browser.close()
