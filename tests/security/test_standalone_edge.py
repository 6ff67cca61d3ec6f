"""The standalone HTTP edge: the local credential, the Host header, body size and depth caps.

In process over ASGI for each rule (the app as ``accord server`` wires it, from Settings), then once
against a real ``accord up`` stack driven by the CLI as a user would, and once with --insecure-open.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from accord.api.app import create_app
from accord.api.edge import TOKEN_COOKIE, json_depth
from accord.server import edge_policy
from accord.settings import ENV_PREFIX, Settings
from accord.standalone.stack import Stack
from tests.chaos.site import START_TIMEOUT_S, log_tails
from tests.scheduling.harness import RunningSite
from tests.support import free_port, wait_until

on_session_loop = pytest.mark.asyncio(loop_scope="session")
LIST = "/v1/job/list/job"
BODY = b'{"limit": 3}'
JSON = {"content-type": "application/json"}


def _settings(home: Path, **overrides: Any) -> Settings:
    return Settings(home=home, max_request_bytes=64 * 1024, **overrides)


@pytest_asyncio.fixture(loop_scope="session")
async def guarded(site: RunningSite, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The app behind the edge ``accord server`` builds for a standalone site, and its local credential."""
    settings = _settings(tmp_path / "home")
    app = create_app(site.site.jobs, tables=site.site.tables, edge=edge_policy(settings))
    token = (settings.home / "local_token").read_text().strip()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9380") as client:
        yield client, token


def _bearer(token: str) -> dict[str, str]:
    return {**JSON, "authorization": f"Bearer {token}"}


def test_the_local_credential_is_private_and_stable(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    first = edge_policy(settings).local_token
    assert first and edge_policy(settings).local_token == first
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "home" / "local_token").stat().st_mode) == 0o600
    assert len(first) >= 40


@on_session_loop
async def test_requests_without_the_local_credential_are_refused_and_logged(
    guarded: tuple[httpx.AsyncClient, str], caplog: pytest.LogCaptureFixture
) -> None:
    client, token = guarded
    with caplog.at_level(logging.WARNING, logger="accord.api.edge"):
        bare = await client.post(LIST, content=BODY, headers=JSON)
        guessed = await client.post(LIST, content=BODY, headers=_bearer("a guess"))
    for response in (bare, guessed):
        assert (response.status_code, response.json()["retcode"]) == (401, 109), response.text
        assert "local credential" in response.json()["retmsg"]
        assert response.headers["www-authenticate"].startswith("Bearer")
    refusals = [r.getMessage() for r in caplog.records if r.name == "accord.api.edge"]
    assert len(refusals) == 2 and all(LIST in m and "local credential" in m for m in refusals)
    assert token not in caplog.text

    ok = await client.post(LIST, content=BODY, headers=_bearer(token))
    assert (ok.status_code, ok.json()["retcode"]) == (200, 0)
    by_cookie = await client.post(LIST, content=BODY, headers={**JSON, "cookie": f"{TOKEN_COOKIE}={token}"})
    assert by_cookie.status_code == 200
    # A link carrying the credential (as `accord up` prints) opens once and leaves a cookie behind.
    linked = await client.get(f"/v1/version?token={token}")
    assert linked.status_code == 200
    assert f"{TOKEN_COOKIE}={token}" in linked.headers["set-cookie"]
    assert "HttpOnly" in linked.headers["set-cookie"] and "SameSite=Strict" in linked.headers["set-cookie"]
    # ...but only on a GET, which changes nothing.
    client.cookies.clear()
    posted = await client.post(f"{LIST}?token={token}", content=BODY, headers=JSON)
    assert posted.status_code == 401
    # The API's documentation stays readable.
    assert (await client.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:9380", "127.0.0.1.evil.example", "10.0.0.1:9380", ""]
)
@on_session_loop
async def test_a_foreign_host_header_is_refused_even_with_the_credential(
    guarded: tuple[httpx.AsyncClient, str], host: str
) -> None:
    # A page on evil.example that rebinds its name to 127.0.0.1 sends its own name as Host.
    client, token = guarded
    response = await client.post(LIST, content=BODY, headers={**_bearer(token), "host": host})
    envelope = response.json()
    assert (response.status_code, envelope["retcode"]) == (403, 10806), envelope
    assert "allowed_hosts" in envelope["retmsg"]


@pytest.mark.parametrize("host", ["127.0.0.1:9380", "localhost:9380", "[::1]:9380", "LOCALHOST"])
@on_session_loop
async def test_loopback_names_pass(guarded: tuple[httpx.AsyncClient, str], host: str) -> None:
    client, token = guarded
    response = await client.post(LIST, content=BODY, headers={**_bearer(token), "host": host})
    assert response.status_code == 200, response.text


@on_session_loop
async def test_a_credential_header_sent_twice_is_refused(guarded: tuple[httpx.AsyncClient, str]) -> None:
    client, token = guarded
    headers = [*_bearer(token).items(), ("authorization", "Bearer other")]
    response = await client.post(LIST, content=BODY, headers=headers)
    assert response.status_code == 401 and "sent more than once" in response.json()["retmsg"]


@on_session_loop
async def test_the_credential_is_checked_before_the_body_is_read(
    guarded: tuple[httpx.AsyncClient, str],
) -> None:
    client, _ = guarded
    reads: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(100):
            reads.append(1)
            yield b" " * 1024

    response = await client.post(LIST, content=body(), headers=JSON)
    assert response.status_code == 401
    # httpx may have handed over its first chunk; the edge never asked for the rest.
    assert len(reads) <= 1


@on_session_loop
async def test_oversized_bodies_are_refused_before_and_while_reading(
    guarded: tuple[httpx.AsyncClient, str],
) -> None:
    client, token = guarded
    big = b'{"limit": 3, "pad": "' + b"x" * (64 * 1024) + b'"}'
    declared = await client.post(LIST, content=big, headers=_bearer(token))
    envelope = declared.json()
    assert (declared.status_code, envelope["retcode"]) == (413, 10128), envelope
    assert "max_request_bytes" in envelope["retmsg"] and "65536" in envelope["retmsg"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(100):
            yield b" " * 1024

    streamed = await client.post(LIST, content=chunks(), headers=_bearer(token))
    assert (streamed.status_code, streamed.json()["retcode"]) == (413, 10128)


@on_session_loop
async def test_deeply_nested_json_is_refused_at_the_edge(guarded: tuple[httpx.AsyncClient, str]) -> None:
    client, token = guarded
    deep = {"job_dsl": {"components": {}}, "job_runtime_conf": {"x": json.loads("[" * 255 + "]" * 255)}}
    response = await client.post("/v1/job/submit", content=json.dumps(deep), headers=_bearer(token))
    envelope = response.json()
    assert (response.status_code, envelope["retcode"]) == (400, 10101), envelope
    assert "64 levels" in envelope["retmsg"] and "max_json_depth" in envelope["retmsg"]
    # Brackets inside strings are text, not structure.
    assert json_depth(b'{"a": "[[[[[[[[", "b": [1, {"c": "\\"]]]"}]}') == 3


# ---- a real `accord up`, driven from the CLI ----------------------------------------------------


def _environment(tmp_path: Path) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIX)}
    return {
        **base,
        "ACCORD_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "ACCORD_TEMPORAL_UI_PORT": str(free_port()),
        "ACCORD_HTTP_PORT": str(free_port()),
        "ACCORD_FEDERATION_PORT": str(free_port()),
        "ACCORD_SERVING_PORT": str(free_port()),
        "ACCORD_TASK_QUEUE": f"edge-{tmp_path.name}",
        "ACCORD_CLI_CONF": str(tmp_path / "cli.json"),
    }


def _accord(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accord", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=4 * START_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def stack_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "site"
    yield home
    Stack(Settings(home=home)).down()


def test_a_real_standalone_site_takes_only_its_own_cli(tmp_path: Path, stack_home: Path) -> None:
    env = _environment(tmp_path)
    server = f"http://127.0.0.1:{env['ACCORD_HTTP_PORT']}"
    up = _accord(env, "up", "--home", str(stack_home), "--detach")
    assert up.returncode == 0, up.stdout + up.stderr + log_tails(stack_home)
    assert f"local credential: {stack_home / 'local_token'}" in up.stdout
    token = (stack_home / "local_token").read_text().strip()
    assert stat.S_IMODE((stack_home / "local_token").stat().st_mode) == 0o600
    assert stat.S_IMODE(stack_home.stat().st_mode) == 0o700

    # The CLI finds the credential by itself, without ACCORD_HOME: `accord up` noted it for the address.
    listed = _accord(env, "job", "list", "--server", server)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert stat.S_IMODE((tmp_path / "local_tokens.json").stat().st_mode) == 0o600
    # Another local user's process, or a web page, without it:
    with httpx.Client(base_url=server, timeout=30) as http:
        refused = http.post(LIST, content=BODY, headers=JSON)
        assert (refused.status_code, refused.json()["retcode"]) == (401, 109)
        rebound = http.post(LIST, content=BODY, headers={**_bearer(token), "host": "evil.example:80"})
        assert (rebound.status_code, rebound.json()["retcode"]) == (403, 10806)
        ok = http.post(LIST, content=BODY, headers=_bearer(token))
        assert ok.status_code == 200
    # A CLI that knows neither the address's credential nor the home is refused with a fix to follow.
    stranger = {**env, "ACCORD_CLI_CONF": str(tmp_path / "other" / "cli.json"), "HOME": str(tmp_path)}
    denied = _accord(stranger, "job", "list", "--server", server)
    assert denied.returncode == 4, denied.stdout + denied.stderr
    assert "local credential" in denied.stdout + denied.stderr
    with_home = _accord({**stranger, "ACCORD_HOME": str(stack_home)}, "job", "list", "--server", server)
    assert with_home.returncode == 0, with_home.stdout + with_home.stderr
    log = (stack_home / "logs" / "server.log").read_text()
    assert "refused POST /v1/job/list/job" in log and token not in log


def test_insecure_open_is_explicit_and_warned_at_every_start(tmp_path: Path, stack_home: Path) -> None:
    env = _environment(tmp_path)
    server = f"http://127.0.0.1:{env['ACCORD_HTTP_PORT']}"
    up = _accord(env, "up", "--home", str(stack_home), "--detach", "--insecure-open")
    assert up.returncode == 0, up.stdout + up.stderr + log_tails(stack_home)
    assert "WARNING: --insecure-open" in up.stderr
    with httpx.Client(base_url=server, timeout=30) as http:
        response = http.post(LIST, content=BODY, headers={**JSON, "host": "anything.example"})
        assert response.status_code == 200, response.text
    log_file = stack_home / "logs" / "server.log"
    wait_until(lambda: "insecure_open" in log_file.read_text(), 30, "the server's warning")
