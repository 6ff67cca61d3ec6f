"""The HTTP API never reads or writes a server path a client chose (issue 12, item 1).

Before: ``POST /v1/data/upload {"file": "/etc/passwd", "head": 0, "id_delimiter": ":"}`` and a download
handed anyone the server's files (a cluster site's federation key among them), and a download's
``output_path`` wrote any server path. Now a client streams a file's bytes; a server path is read only
below the site's ``upload_roots`` (symlinks and ``..`` resolved); nothing is ever written where a
client says. The site's files are its user's alone.
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from accord.api.app import create_app
from accord.api.tables import NDJSON
from accord.storage import TableStore
from tests.api.helpers import accord, stream_upload, write_json
from tests.http_server import serve_http
from tests.scheduling.harness import RunningSite

on_site_loop = pytest.mark.asyncio(loop_scope="session")

PASSWD_ATTACK = {"file": "/etc/passwd", "head": 0, "id_delimiter": ":", "namespace": "x", "table_name": "pw"}


def _store(site: RunningSite, **settings: Any) -> TableStore:
    return TableStore.for_site(site.settings.model_copy(update=settings), site.site.database)


@pytest_asyncio.fixture(loop_scope="session")
async def open_api(site: RunningSite) -> AsyncIterator[httpx.AsyncClient]:
    """The app of a site with the default settings: no upload_roots."""
    transport = httpx.ASGITransport(app=create_app(site.site.jobs, tables=_store(site)))
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as client:
        yield client


def _client(site: RunningSite, store: TableStore) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(site.site.jobs, tables=store))
    return httpx.AsyncClient(transport=transport, base_url="http://accord.test")


def _csv(path: Path, rows: int, value: str = "v") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("id,a\n" + "".join(f"{i},{value}{i}\n" for i in range(rows)))
    return path


def _refused(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    envelope: dict[str, Any] = response.json()
    assert (response.status_code, envelope["retcode"]) == (status, code), envelope
    return envelope


@on_site_loop
async def test_the_passwd_attack_is_refused_without_upload_roots(open_api: httpx.AsyncClient) -> None:
    for accept in (None, NDJSON):
        headers = {"Accept": accept} if accept else {}
        refused = _refused(
            await open_api.post("/v1/data/upload", json=PASSWD_ATTACK, headers=headers), 403, 10801
        )
        assert "upload_roots" in refused["retmsg"] and "accord data upload" in refused["retmsg"]
        assert "root:" not in json.dumps(refused)
    gone = await open_api.post("/v1/data/download", json={"namespace": "x", "table_name": "pw"})
    assert (gone.status_code, gone.json()["retcode"]) == (404, 40401)
    # Nor by a relative path, which the site once looked for in its own working directory.
    relative = {**PASSWD_ATTACK, "file": "../../../../../../etc/passwd"}
    _refused(await open_api.post("/v1/data/upload", json=relative), 403, 10801)


@on_site_loop
async def test_a_server_path_is_read_only_below_upload_roots(site: RunningSite, tmp_path: Path) -> None:
    root = tmp_path / "shared" / "uploads"
    inside = _csv(root / "team" / "ok.csv", 3)
    outside = _csv(tmp_path / "shared" / "secret.csv", 2, "secret")
    (root / "to-passwd.csv").symlink_to("/etc/passwd")
    (root / "to-secret").symlink_to(outside.parent, target_is_directory=True)
    key = {"namespace": "roots", "table_name": "t", "head": 1}
    second = tmp_path / "second"
    _csv(second / "other.csv", 4)
    (root / "loop").symlink_to(root / "loop")
    async with _client(site, _store(site, upload_roots=(root, second))) as api:
        by_path = await api.post("/v1/data/upload", json={**key, "file": str(inside)})
        assert by_path.status_code == 200 and by_path.json()["data"]["count"] == 3
        relative = await api.post("/v1/data/upload", json={**key, "file": "team/ok.csv", "drop": 1})
        assert relative.status_code == 200 and relative.json()["data"]["count"] == 3

        escapes = [
            "/etc/passwd",
            str(outside),
            str(root / ".." / "secret.csv"),
            "../secret.csv",
            "team/../../secret.csv",
            str(root / "to-passwd.csv"),
            "to-passwd.csv",
            str(root / "to-secret" / "secret.csv"),
        ]
        for file in escapes:
            refused = _refused(await api.post("/v1/data/upload", json={**key, "file": file}), 403, 10801)
            assert "upload_roots" in refused["retmsg"], file
        missing = await api.post("/v1/data/upload", json={**key, "file": "team/none.csv"})
        _refused(missing, 400, 10201)
        # A relative name is looked for below each root in turn.
        other = await api.post("/v1/data/upload", json={**key, "file": "other.csv", "table_name": "o"})
        assert other.status_code == 200 and other.json()["data"]["count"] == 4
        looped = await api.post("/v1/data/upload", json={**key, "file": "loop"})
        assert looped.status_code in (400, 403) and looped.json()["retcode"] in (10201, 10801)
        # Whatever was refused, the table is the one uploaded from inside the root.
        text = await api.post("/v1/data/download", json={"namespace": "roots", "table_name": "t"})
        assert text.content == inside.read_bytes()


@on_site_loop
async def test_download_never_writes_a_server_path(open_api: httpx.AsyncClient, tmp_path: Path) -> None:
    source = _csv(tmp_path / "client" / "t.csv", 5)
    assert (await stream_upload(open_api, source, {"namespace": "dl", "table_name": "t"})).status_code == 200
    target = tmp_path / "site-packages" / "evil.pth"
    body = {"namespace": "dl", "table_name": "t", "output_path": str(target)}
    refused = _refused(await open_api.post("/v1/data/download", json=body), 403, 10801)
    assert "output_path" in refused["retmsg"] and refused["data"]["field"] == "output_path"
    assert not target.exists() and not target.parent.exists()


@on_site_loop
async def test_a_streamed_upload_is_bounded_and_checked(site: RunningSite, tmp_path: Path) -> None:
    store = _store(site, max_upload_bytes=4096)
    first = _csv(tmp_path / "first.csv", 10)
    big = _csv(tmp_path / "big.csv", 1000)
    assert big.stat().st_size > 4096
    key = {"namespace": "bound", "table_name": "t"}
    async with _client(site, store) as api:
        assert (await stream_upload(api, first, key)).status_code == 200
        # Refused by its declared length ...
        declared = _refused(await stream_upload(api, big, {**key, "drop": 1}), 413, 10128)
        assert "max_upload_bytes" in declared["retmsg"] and declared["data"]["limit"] == 4096

        # ... and, sent without one (chunked), while it streams.
        content = big.read_bytes()

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(content), 1000):
                yield content[start : start + 1000]

        headers = {"X-Content-SHA256": hashlib.sha256(content).hexdigest(), "Accept": NDJSON}
        params = {"conf": json.dumps({**key, "file": "big.csv", "drop": 1})}
        chunked = await api.post("/v1/data/upload", params=params, content=chunks(), headers=headers)
        assert "content-length" not in chunked.request.headers
        assert "max_upload_bytes" in _refused(chunked, 413, 10128)["retmsg"]

        # Bytes that are not the ones the client hashed never become a table.
        tampered = {"Content-Type": "application/octet-stream", "X-Content-SHA256": "0" * 64}
        wrong = await api.post(
            "/v1/data/upload",
            params={"conf": json.dumps({**key, "drop": 1})},
            content=b"id,a\n1,x\n",
            headers=tampered,
        )
        assert "X-Content-SHA256" in _refused(wrong, 401, 109)["retmsg"]

        # The table before is intact, and no spooled bytes are left behind.
        text = await api.post("/v1/data/download", json=key)
        assert text.content == first.read_bytes()
    spool = site.settings.home / "spool"
    assert list(spool.iterdir()) == []
    assert stat.S_IMODE(spool.stat().st_mode) == 0o700


def test_the_spool_file_is_private(tmp_path: Path) -> None:
    from accord.storage.intake import Spool

    with Spool(tmp_path / "spool", max_bytes=1024) as spool:
        spool.write(b"id,a\n")
        assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "spool").stat().st_mode) == 0o700
    assert not spool.path.exists()
    # What a crash leaves behind goes at the server's next start.
    left = Spool(tmp_path / "spool", max_bytes=1024)
    left.write(b"id,a\n")
    assert left.path.exists() and Spool.clear(tmp_path / "spool") == 1 and not left.path.exists()
    left.discard()


@pytest_asyncio.fixture(loop_scope="session")
async def real_server(site: RunningSite) -> AsyncIterator[str]:
    """A real uvicorn over the site (no upload_roots), as ``accord server`` serves it."""
    app = create_app(site.site.jobs, tables=site.site.tables)
    async with serve_http(app, site.settings.http_host, site.settings.http_port) as address:
        yield address


@on_site_loop
async def test_the_cli_streams_the_client_file_and_writes_the_client_path(
    real_server: str, site: RunningSite, tmp_path: Path
) -> None:
    client = tmp_path / "client"
    source = _csv(client / "data" / "rows.csv", 20_000)
    conf = write_json(
        client / "upload.json", {"file": "data/rows.csv", "namespace": "cli", "table_name": "t"}
    )
    # The site reads no server paths (no upload_roots), so this succeeds only by streaming the bytes.
    run = await accord("data", "upload", "-c", conf, "--no-progress", server=real_server, home=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.envelope["data"]["count"] == 20_000

    out = client / "out" / "rows.csv"
    run = await accord(
        "data", "download", "-n", "cli", "-t", "t", "-o", str(out), server=real_server, home=tmp_path
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert out.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    # FATE's use_local_data: 0 asks the site to read its own file: refused here, with the fix.
    server_side = write_json(client / "local.json", {**PASSWD_ATTACK, "use_local_data": 0})
    run = await accord("data", "upload", "-c", server_side, server=real_server, home=tmp_path)
    assert (run.returncode, run.envelope["retcode"]) == (4, 10801), run.stdout + run.stderr
    assert "upload_roots" in run.envelope["retmsg"]
    assert list((site.settings.home / "spool").iterdir()) == []


# ---- a real standalone stack: nothing under its home is readable by others ----------------------


@pytest.fixture
def stack_cli(tmp_path: Path) -> Iterator[Any]:
    from accord.settings import Settings
    from accord.standalone.stack import Stack
    from tests.lifecycle.test_cli_end_to_end import Cli

    cli = Cli(tmp_path, tmp_path / "accord")
    yield cli
    Stack(Settings(home=cli.home)).down()


def _readable_by_others(home: Path) -> list[str]:
    exposed = []
    for path in [home, *home.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or stat.S_ISSOCK(mode):
            continue
        if stat.S_IMODE(mode) & 0o077:
            exposed.append(f"{oct(stat.S_IMODE(mode))} {path.relative_to(home.parent)}")
    return exposed


def test_nothing_under_the_home_is_readable_by_others(stack_cli: Any, tmp_path: Path) -> None:
    from tests.lifecycle.test_cli_end_to_end import submit_and_wait, upload_conf
    from tests.pipeline.test_hetero_lr_examples import LR_EXAMPLES

    cli = stack_cli
    cli.run("up", "--detach", "--json", timeout_s=240)
    for side in ("guest", "host"):
        cli.run("data", "upload", "-c", str(upload_conf(tmp_path, side)), "--no-progress")
    trained = submit_and_wait(
        cli, LR_EXAMPLES / "hetero_lr_normal_dsl.json", LR_EXAMPLES / "hetero_lr_normal_conf.json"
    )
    model = trained["data"]["model_info"]
    archive = tmp_path / "export" / "model.zip"
    cli.run(
        "model",
        "export",
        "--model-id",
        model["model_id"],
        "--model-version",
        model["model_version"],
        "-r",
        "guest",
        "-p",
        "9999",
        "-o",
        str(archive),
    )
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert (cli.home / "tables").is_dir() and (cli.home / "models").is_dir()
    assert _readable_by_others(cli.home) == []
