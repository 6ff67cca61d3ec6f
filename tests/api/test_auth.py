"""Signed requests (cluster mode): the real app refuses what is not signed right, the CLI client signs."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from accord.api.app import create_app
from accord.api.auth import (
    APP_KEY,
    BODY_SHA256,
    NONCE,
    SIGNATURE,
    TIMESTAMP,
    RequestAuthenticator,
    body_digest,
    signature,
    signed_headers,
)
from accord.api.tables import NDJSON
from accord.cli.http import (
    APP_KEY_ENV,
    APP_SECRET_ENV,
    CONF_ENV,
    Api,
    AppCredentials,
    RemoteError,
    configured_credentials,
    save_server,
)
from accord.cli.transfer import TransferApi
from accord.errors import ArgumentError, AuthenticationFailed, ResourceInsufficient, exit_code
from tests.api.helpers import accord
from tests.http_server import serve_http
from tests.scheduling.harness import RunningSite
from tests.support import free_port

# Not module wide: some tests here are plain functions.
on_session_loop = pytest.mark.asyncio(loop_scope="session")

KEY, SECRET = "site-a", "s3cret-of-site-a"
LIST = "/v1/job/list/job"
BODY = b'{"limit": 3}'


@pytest.fixture(autouse=True)
def _no_configured_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the developer's environment nor their ~/.accord/cli.json may sign these requests."""
    monkeypatch.delenv(APP_KEY_ENV, raising=False)
    monkeypatch.delenv(APP_SECRET_ENV, raising=False)
    monkeypatch.setenv(CONF_ENV, str(tmp_path / "cli.json"))


def _authenticator() -> RequestAuthenticator:
    return RequestAuthenticator({KEY: SECRET, "site-b": "another secret"}, max_skew_s=60.0)


@pytest_asyncio.fixture(loop_scope="session")
async def signed_api(site: RunningSite) -> AsyncIterator[httpx.AsyncClient]:
    """The app over ASGI with signatures required, as ``accord server`` runs it with http_auth."""
    app = create_app(
        site.site.jobs, tracking=site.site.tracking, tables=site.site.tables, authenticator=_authenticator()
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a.test") as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def auth_server(site: RunningSite) -> AsyncIterator[str]:
    """A real uvicorn on a free port requiring signatures, started as ``accord server`` starts it."""
    app = create_app(site.site.jobs, tables=site.site.tables, authenticator=_authenticator())
    async with serve_http(app, "127.0.0.1", free_port()) as address:
        yield address


def _signed(
    path: str,
    body: bytes = BODY,
    *,
    key: str = KEY,
    secret: str = SECRET,
    method: str = "POST",
    **options: Any,
) -> dict[str, str]:
    headers = signed_headers(key, secret, method, path.encode(), body_digest(body), **options)
    return {**headers, "content-type": "application/json"}


def test_the_documented_example_signature() -> None:
    # The module docstring gives this value (and an openssl line computing it) to other implementers.
    digest = body_digest(b'{"limit": 5}')
    made = signature("s3cret", "1634890066095", "nonce-1", "my-app", "POST", b"/v1/job/list/job", digest)
    assert made == "41dFiw6TeRs4/7Te3FN0GPj25GyRl8nyGl83H9UZcHA="
    assert digest == "3804e3820a806bbdcc327f8a49db07bf588b253bda99cb11493e15a6d7cf4867"


@on_session_loop
async def test_signed_requests_are_accepted(signed_api: httpx.AsyncClient) -> None:
    listed = await signed_api.post(LIST, content=BODY, headers=_signed(LIST))
    assert (listed.status_code, listed.json()["retcode"]) == (200, 0), listed.text
    version = await signed_api.get("/v1/version", headers=_signed("/v1/version", b"", method="GET"))
    assert version.status_code == 200 and version.json()["data"]["accord"]
    # The method is signed: a GET's signature does not pass for a POST.
    moved = await signed_api.post(LIST, content=BODY, headers=_signed(LIST, method="GET"))
    assert moved.status_code == 401 and "SIGNATURE does not match" in moved.json()["retmsg"]
    # A body hash sent along must be the body's.
    announced = {**_signed(LIST), BODY_SHA256: body_digest(b"{}")}
    wrong_hash = await signed_api.post(LIST, content=BODY, headers=announced)
    assert wrong_hash.status_code == 401 and BODY_SHA256 in wrong_hash.json()["retmsg"]
    # The query string is part of what is signed.
    with_query = await signed_api.post(f"{LIST}?page=2", content=BODY, headers=_signed(f"{LIST}?page=2"))
    assert with_query.status_code == 200
    added_query = await signed_api.post(f"{LIST}?page=2", content=BODY, headers=_signed(LIST))
    assert added_query.status_code == 401
    # The documentation pages stay readable in a browser, which cannot sign.
    assert (await signed_api.get("/openapi.json")).status_code == 200


def _unsigned() -> tuple[str, dict[str, str], bytes]:
    return LIST, {"content-type": "application/json"}, BODY


def _unknown_key() -> tuple[str, dict[str, str], bytes]:
    return LIST, _signed(LIST, key="stranger"), BODY


def _wrong_secret() -> tuple[str, dict[str, str], bytes]:
    return LIST, _signed(LIST, secret="a guess"), BODY


def _tampered_body() -> tuple[str, dict[str, str], bytes]:
    return LIST, _signed(LIST), b'{"limit": 100}'


def _other_path() -> tuple[str, dict[str, str], bytes]:
    return LIST, _signed("/v1/job/query"), BODY


def _stale() -> tuple[str, dict[str, str], bytes]:
    return LIST, _signed(LIST, now=time.time() - 120), BODY


def _ahead() -> tuple[str, dict[str, str], bytes]:
    return LIST, _signed(LIST, now=time.time() + 120), BODY


def _not_a_time() -> tuple[str, dict[str, str], bytes]:
    return LIST, {**_signed(LIST), TIMESTAMP: "yesterday"}, BODY


def _missing_signature() -> tuple[str, dict[str, str], bytes]:
    headers = _signed(LIST)
    del headers[SIGNATURE]
    return LIST, headers, BODY


@pytest.mark.parametrize(
    ("request_of", "says"),
    [
        (_unsigned, "not signed: headers TIMESTAMP, NONCE, APP_KEY, SIGNATURE missing"),
        (_missing_signature, "not signed: header SIGNATURE missing"),
        (_unknown_key, "unknown APP_KEY 'stranger'"),
        (_wrong_secret, "SIGNATURE does not match"),
        (_tampered_body, "SIGNATURE does not match"),
        (_other_path, "SIGNATURE does not match"),
        (_stale, "s behind the server's clock"),
        (_ahead, "ahead of the server's clock"),
        (_not_a_time, "TIMESTAMP 'yesterday' is not milliseconds"),
    ],
)
@on_session_loop
async def test_refusals_are_coded_401s_and_logged(
    signed_api: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    request_of: Callable[[], tuple[str, dict[str, str], bytes]],
    says: str,
) -> None:
    path, headers, body = request_of()
    with caplog.at_level(logging.WARNING, logger="accord.api.edge"):
        response = await signed_api.post(path, content=body, headers=headers)
    envelope = response.json()
    assert (response.status_code, envelope["retcode"]) == (401, 109), envelope
    assert says in envelope["retmsg"]
    assert set(envelope) == {"retcode", "retmsg", "data", "jobId"}
    assert "TIMESTAMP NONCE APP_KEY SIGNATURE" in response.headers["www-authenticate"]
    _assert_logged(caplog, path, says)
    logged = caplog.text
    assert SECRET not in logged and (not headers.get(SIGNATURE) or headers[SIGNATURE] not in logged)


def _assert_logged(caplog: pytest.LogCaptureFixture, path: str, says: str) -> None:
    records = [r for r in caplog.records if r.name == "accord.api.edge" and r.levelno == logging.WARNING]
    assert len(records) == 1, caplog.text
    message = records[0].getMessage()
    # ASGITransport reports its client as 127.0.0.1:123.
    assert path in message and "127.0.0.1:123" in message and says in message, message


@on_session_loop
async def test_a_replayed_request_is_refused(
    signed_api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    headers = _signed(LIST)
    first = await signed_api.post(LIST, content=BODY, headers=headers)
    assert first.status_code == 200
    with caplog.at_level(logging.WARNING, logger="accord.api.edge"):
        again = await signed_api.post(LIST, content=BODY, headers=headers)
    assert (again.status_code, again.json()["retcode"]) == (401, 109)
    says = f"NONCE {headers[NONCE]!r} was already used by app key {KEY!r}"
    assert says in again.json()["retmsg"]
    _assert_logged(caplog, LIST, says)
    assert f"app key {KEY!r}" in caplog.records[0].getMessage()
    # The nonce is only spent for that app key.
    other = _signed(LIST, key="site-b", secret="another secret", nonce=headers[NONCE])
    assert (await signed_api.post(LIST, content=BODY, headers=other)).status_code == 200


@on_session_loop
async def test_a_header_sent_twice_is_refused(signed_api: httpx.AsyncClient) -> None:
    headers = [*_signed(LIST).items(), (APP_KEY, "site-b")]
    response = await signed_api.post(LIST, content=BODY, headers=headers)
    assert response.status_code == 401 and "APP_KEY sent more than once" in response.json()["retmsg"]


def test_nonces_are_kept_while_fresh_and_bounded() -> None:
    now = [1_700_000_000.0]
    auth = RequestAuthenticator({KEY: SECRET}, max_skew_s=10, clock=lambda: now[0], max_nonces=2)

    def send(nonce: str) -> str:
        return auth.authenticate(_signed(LIST, now=now[0], nonce=nonce), "POST", LIST.encode(), BODY)

    assert send("n1") == KEY
    with pytest.raises(AuthenticationFailed, match="already used"):
        send("n1")
    send("n2")
    # Forgetting a fresh nonce would let its request be replayed, so a full cache refuses instead.
    with pytest.raises(ResourceInsufficient, match="2 fresh nonces"):
        send("n3")
    now[0] += 11
    # n1 and n2 went stale: their old requests fail the timestamp check, so room is made for more.
    send("n3")
    send("n1")
    with pytest.raises(AuthenticationFailed, match="behind the server's clock"):
        auth.authenticate(_signed(LIST, now=now[0] - 11, nonce="n4"), "POST", LIST.encode(), BODY)


def test_fresh_nonces_survive_a_restart(tmp_path: Path) -> None:
    now = [1_700_000_000.0]
    nonces = tmp_path / "home" / "auth_nonces"

    def authenticator() -> RequestAuthenticator:
        return RequestAuthenticator({KEY: SECRET}, max_skew_s=10, clock=lambda: now[0], nonce_file=nonces)

    headers = _signed(LIST, now=now[0], nonce="n1")
    assert authenticator().authenticate(headers, "POST", LIST.encode(), BODY) == KEY
    assert stat.S_IMODE(nonces.stat().st_mode) == 0o600
    # A new server process (a restart) still refuses the replay while the timestamp is fresh.
    now[0] += 5
    with pytest.raises(AuthenticationFailed, match="already used"):
        authenticator().authenticate(headers, "POST", LIST.encode(), BODY)
    # Once stale, the file forgets it on the next start; the timestamp check refuses the replay anyway.
    now[0] += 10
    restarted = authenticator()
    assert nonces.read_text() == ""
    with pytest.raises(AuthenticationFailed, match="behind the server's clock"):
        restarted.authenticate(headers, "POST", LIST.encode(), BODY)


def test_bad_credentials_are_refused_at_start() -> None:
    with pytest.raises(ArgumentError, match="at least one app key"):
        RequestAuthenticator({})
    with pytest.raises(ArgumentError, match="cannot travel in a header"):
        RequestAuthenticator({"key with spaces": "s"})
    with pytest.raises(ArgumentError, match="empty secret"):
        RequestAuthenticator({KEY: ""})
    with pytest.raises(ArgumentError, match="not printable ASCII"):
        AppCredentials("clé", SECRET)


@on_session_loop
async def test_a_streamed_upload_is_signed_over_its_body(
    signed_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    source = tmp_path / "t.csv"
    source.write_text("id,y,a\n" + "".join(f"{i},{i % 2},{i / 2}\n" for i in range(500)))
    # The file's bytes, the conf in the query (signed with the path), their hash in X-Content-SHA256.
    body = source.read_bytes()
    conf = json.dumps({"namespace": "auth", "table_name": "t", "drop": 1})
    url = httpx.URL("/v1/data/upload", params={"conf": conf})
    headers = {
        **_signed(url.raw_path.decode("ascii"), body),
        "accept": NDJSON,
        "content-type": "application/octet-stream",
        BODY_SHA256: body_digest(body),
    }
    response = await signed_api.post(url, content=body, headers=headers)
    last = json.loads(response.text.splitlines()[-1])
    assert last["retcode"] == 0 and last["data"]["count"] == 500, response.text


@on_session_loop
async def test_without_auth_unsigned_requests_pass(api: httpx.AsyncClient) -> None:
    response = await api.post(LIST, content=BODY, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["retcode"]) == (200, 0)


# ---- the CLI's client against a real uvicorn --------------------------------------------------


@on_session_loop
async def test_the_cli_client_signs_with_given_or_configured_credentials(
    auth_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def listed(**options: Any) -> dict[str, Any]:
        with Api(auth_server, **options) as client:
            return client.call(LIST, {"limit": 1})

    # Api is synchronous; off the event loop, which serves the uvicorn it talks to.
    signed = await asyncio.to_thread(listed, credentials=AppCredentials(KEY, SECRET))
    assert signed["retcode"] == 0

    with pytest.raises(RemoteError) as unsigned:
        await asyncio.to_thread(listed)
    assert isinstance(unsigned.value.error, AuthenticationFailed)
    assert unsigned.value.envelope["retcode"] == 109 and exit_code(unsigned.value.error) == 4
    assert "accord init --app-key" in unsigned.value.envelope["retmsg"]
    with pytest.raises(RemoteError, match="SIGNATURE does not match"):
        await asyncio.to_thread(listed, credentials=AppCredentials(KEY, "a guess"))

    # `accord init` saves them in a file only its owner reads; the environment overrides it.
    save_server(auth_server, AppCredentials(KEY, SECRET))
    assert stat.S_IMODE((tmp_path / "cli.json").stat().st_mode) == 0o600
    assert (await asyncio.to_thread(listed))["retcode"] == 0
    monkeypatch.setenv(APP_KEY_ENV, KEY)
    monkeypatch.setenv(APP_SECRET_ENV, "a guess")
    with pytest.raises(RemoteError, match="SIGNATURE does not match"):
        await asyncio.to_thread(listed)
    monkeypatch.delenv(APP_SECRET_ENV)
    with pytest.raises(ArgumentError, match=f"{APP_KEY_ENV} is set but {APP_SECRET_ENV} is not"):
        configured_credentials()


@on_session_loop
async def test_a_streamed_upload_through_the_cli_client(auth_server: str, tmp_path: Path) -> None:
    source = tmp_path / "u.csv"
    source.write_text("id,y,a\n" + "".join(f"{i},{i % 2},{i / 2}\n" for i in range(200)))
    conf = {"namespace": "auth", "table_name": "u", "drop": 1}
    progress: list[Any] = []

    def upload() -> dict[str, Any]:
        client = TransferApi(auth_server, credentials=AppCredentials(KEY, SECRET))
        with client:
            return client.upload_file(conf, source, on_progress=progress.append)

    envelope = await asyncio.to_thread(upload)
    assert envelope["retcode"] == 0 and envelope["data"]["count"] == 200 and progress


@on_session_loop
async def test_cli_commands_sign_after_init(auth_server: str, tmp_path: Path) -> None:
    host, port = auth_server.removeprefix("http://").rsplit(":", 1)
    credentials = ("--app-key", KEY, "--app-secret", SECRET)
    saved = await accord("init", "--server", auth_server, *credentials, server=None, home=tmp_path)
    assert saved.returncode == 0, saved.stderr
    assert saved.envelope["data"] == {
        "server": auth_server,
        "conf_path": str(tmp_path / "cli.json"),
        "app_key": KEY,
    }
    assert SECRET not in saved.stdout
    assert stat.S_IMODE((tmp_path / "cli.json").stat().st_mode) == 0o600
    listed = await accord("job", "list", server=None, home=tmp_path)
    assert listed.returncode == 0, listed.stdout + listed.stderr

    half = await accord("init", "--ip", host, "--port", port, "--app-key", KEY, server=None, home=tmp_path)
    assert (half.returncode, half.envelope["retcode"]) == (2, 101)
    assert "--app-key needs --app-secret" in half.envelope["retmsg"]

    # Saving the address alone drops the credentials: the site's refusal is an envelope and exit 4.
    await accord("init", "--ip", host, "--port", port, server=None, home=tmp_path)
    refused = await accord("job", "list", server=None, home=tmp_path)
    assert (refused.returncode, refused.envelope["retcode"]) == (4, 109)
    assert "not signed" in refused.envelope["retmsg"]
    assert "Traceback" not in refused.stdout + refused.stderr
