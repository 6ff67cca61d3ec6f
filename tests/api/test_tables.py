"""The data and table endpoints, and the CLI over them, against a real site's table store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openapi_spec_validator import validate

from accord.api.app import create_app
from accord.api.tables import NDJSON
from tests.api.helpers import accord, post, stream_upload, write_json
from tests.corpus import FATE_ROOT
from tests.http_server import serve_http
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

BREAST = FATE_ROOT / "examples" / "data" / "breast_hetero_guest.csv"
TABLE_PATHS = (
    "/v1/data/upload",
    "/v1/data/download",
    "/v1/table/table_info",
    "/v1/table/list",
    "/v1/table/delete",
)


@pytest_asyncio.fixture(loop_scope="session")
async def tables_api(site: RunningSite) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(site.site.jobs, tables=site.site.tables)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def tables_server(site: RunningSite) -> AsyncIterator[str]:
    """A real uvicorn serving the site with its tables, as ``accord server`` does."""
    app = create_app(site.site.jobs, tables=site.site.tables)
    async with serve_http(app, site.settings.http_host, site.settings.http_port) as address:
        yield address


def _generated(path: Path, rows: int) -> Path:
    lines = ["id,y,a,b", *(f"{i},{i % 2},{i * 0.5},{i * 1.25}" for i in range(rows))]
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_upload_info_list_download_delete(tables_api: httpx.AsyncClient, tmp_path: Path) -> None:
    key = {"namespace": "experiment", "table_name": "breast"}
    reply = await stream_upload(tables_api, BREAST, {**key, "head": 1, "partition": 4})
    uploaded = reply.json()
    assert (reply.status_code, uploaded["retcode"]) == (200, 0), uploaded
    header = BREAST.read_text().split("\n", 1)[0].split(",")
    data = uploaded["data"]
    assert (data["count"], data["partition"], data["exist"]) == (569, 4, 1)
    assert (data["schema"]["sid"], data["schema"]["header"]) == (header[0], ",".join(header[1:]))

    info = (await post(tables_api, "/v1/table/table_info", {"namespace": "experiment", "name": "breast"}))[
        "data"
    ]
    assert (info["table_name"], info["count"], info["exist"], info["engine"]) == ("breast", 569, 1, "PARQUET")
    assert Path(info["address"]["path"]).is_dir()
    missing = await post(
        tables_api, "/v1/table/table_info", {"namespace": "experiment", "table_name": "nope"}
    )
    assert (missing["data"]["exist"], missing["data"]["count"]) == (0, 0)

    listed = (await post(tables_api, "/v1/table/list", {"namespace": "experiment"}))["data"]
    assert [t["table_name"] for t in listed["tables"]] == ["breast"] and listed["count"] == 1

    streamed = await tables_api.post("/v1/data/download", json=key)
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/csv")
    assert streamed.headers["x-table-count"] == "569"
    assert streamed.content == BREAST.read_bytes()
    # The site writes no file a client names.
    written = await tables_api.post(
        "/v1/data/download", json={**key, "output_path": str(tmp_path / "out.csv")}
    )
    assert (written.status_code, written.json()["retcode"]) == (403, 10801)
    assert "output_path" in written.json()["retmsg"] and not (tmp_path / "out.csv").exists()

    deleted = await post(tables_api, "/v1/table/delete", key)
    assert deleted["data"] == key
    again = await tables_api.post("/v1/table/delete", json=key)
    assert (again.status_code, again.json()["retcode"]) == (404, 40401)
    gone = await tables_api.post("/v1/data/download", json=key)
    assert (gone.status_code, gone.json()["retcode"]) == (404, 40401)


async def test_upload_streams_its_progress_when_asked(tables_api: httpx.AsyncClient, tmp_path: Path) -> None:
    source = _generated(tmp_path / "big.csv", 150_000)
    body = {"namespace": "ns", "table_name": "big"}
    response = await stream_upload(tables_api, source, body, accept=NDJSON)
    assert response.headers["content-type"].startswith(NDJSON)
    messages = [json.loads(line) for line in response.text.splitlines()]
    progress = [m["progress"] for m in messages[:-1]]
    assert len(progress) >= 3
    assert [p["bytes_read"] for p in progress] == sorted(p["bytes_read"] for p in progress)
    assert progress[-1]["bytes_read"] == progress[-1]["total_bytes"] == source.stat().st_size
    assert progress[-1]["rows"] == 150_000
    assert messages[-1]["retcode"] == 0 and messages[-1]["data"]["count"] == 150_000


async def test_bad_uploads_are_coded(tables_api: httpx.AsyncClient, tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("id,a,b\n1,2,3\n2,3\n")
    body = {"namespace": "ns", "table_name": "r"}
    refused = await stream_upload(tables_api, ragged, body)
    envelope = refused.json()
    assert (refused.status_code, envelope["retcode"]) == (400, 10201)
    # Named as the client named it, not by the site's spool file.
    assert "'ragged.csv': line 3" in envelope["retmsg"] and envelope["data"]["line"] == 3
    streamed = await stream_upload(tables_api, ragged, body, accept=NDJSON)
    last = json.loads(streamed.text.splitlines()[-1])
    assert (last["retcode"], last["data"]["line"]) == (10201, 3)

    misspelt = await stream_upload(tables_api, ragged, {**body, "heads": 1})
    assert misspelt.status_code == 400 and "heads" in misspelt.json()["retmsg"]
    misspelt_json = await tables_api.post("/v1/data/upload", json={**body, "file": "r.csv", "heads": 1})
    assert misspelt_json.status_code == 400 and "heads" in misspelt_json.json()["retmsg"]
    outside = await tables_api.post("/v1/table/table_info", json={"namespace": "..", "table_name": "t"})
    assert outside.status_code == 400 and outside.json()["retcode"] in (101, 10130)
    # A file on the site: refused, since this site lists no upload_roots.
    server_side = await tables_api.post("/v1/data/upload", json={**body, "file": str(ragged)})
    assert (server_side.status_code, server_side.json()["retcode"]) == (403, 10801)
    unhashed = await tables_api.post(
        "/v1/data/upload", params={"conf": json.dumps(body)}, content=ragged.read_bytes()
    )
    assert (unhashed.status_code, unhashed.json()["retcode"]) == (400, 101)
    assert "X-Content-SHA256" in unhashed.json()["retmsg"]


async def test_openapi_documents_the_table_endpoints(tables_api: httpx.AsyncClient) -> None:
    document = (await tables_api.get("/openapi.json")).json()
    validate(document)
    for path in TABLE_PATHS:
        responses = document["paths"][path]["post"]["responses"]
        assert "422" not in responses
        assert responses["default"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorEnvelope"
        )
        assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")
        if path == "/v1/data/download":
            assert "text/csv" in responses["200"]["content"]
            continue
        ok = responses["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok.startswith("#/components/schemas/Envelope_"), path
    upload = document["paths"]["/v1/data/upload"]["post"]
    assert {"application/octet-stream", "application/json"} <= set(upload["requestBody"]["content"])


def _conf(directory: Path, **fields: Any) -> str:
    return write_json(directory / "upload.json", {"namespace": "cli", "table_name": "t", **fields})


async def test_cli_uploads_downloads_and_manages_tables(tables_server: str, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    first = _generated(tmp_path / "data" / "first.csv", 40_000)
    # A path relative to the conf's directory, as FATE's example confs write them.
    conf = _conf(tmp_path, file="data/first.csv", head=1, partition=4)
    run = await accord("data", "upload", "-c", conf, "--progress", server=tables_server, home=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.envelope["data"]["count"] == 40_000
    assert "sending first.csv: 100%" in run.stderr.splitlines()
    assert "storing first.csv: 100% (40000 rows)" in run.stderr.splitlines()

    # Without drop the rows merge by id: 30000..49999 are new or replace the old.
    lines = ["id,y,a,b", *(f"{i},9,new,new" for i in range(30_000, 50_000))]
    (tmp_path / "data" / "second.csv").write_text("\n".join(lines) + "\n")
    conf = _conf(tmp_path, file="data/second.csv")
    merged = await accord("data", "upload", "-c", conf, "--no-progress", server=tables_server, home=tmp_path)
    assert merged.returncode == 0 and merged.stderr == ""
    assert merged.envelope["data"]["count"] == 50_000

    out = tmp_path / "out" / "t.csv"
    run = await accord(
        "data", "download", "-n", "cli", "-t", "t", "-o", str(out), server=tables_server, home=tmp_path
    )
    assert run.returncode == 0 and run.envelope["data"]["count"] == 50_000
    downloaded = out.read_text().splitlines()
    expected = first.read_text().splitlines()[: 1 + 30_000] + lines[1:]
    assert downloaded == expected

    replaced = await accord("data", "upload", "-c", conf, "--drop", server=tables_server, home=tmp_path)
    assert replaced.envelope["data"]["count"] == 20_000

    info = await accord("table", "info", "-n", "cli", "-t", "t", server=tables_server, home=tmp_path)
    assert (info.envelope["data"]["count"], info.envelope["data"]["partition"]) == (20_000, 10)
    listed = await accord("table", "list", "-n", "cli", server=tables_server, home=tmp_path)
    assert [t["table_name"] for t in listed.envelope["data"]["tables"]] == ["t"]
    deleted = await accord("table", "delete", "-n", "cli", "-t", "t", server=tables_server, home=tmp_path)
    assert deleted.returncode == 0 and deleted.envelope["data"] == {"table_name": "t", "namespace": "cli"}
    absent = await accord("table", "info", "-n", "cli", "-t", "t", server=tables_server, home=tmp_path)
    assert absent.returncode == 0 and absent.envelope["data"]["exist"] == 0


async def test_cli_errors_are_coded(tables_server: str, tmp_path: Path) -> None:
    (tmp_path / "dups.csv").write_text("id,a\n1,x\n2,y\n1,z\n")
    dups = await accord(
        "data", "upload", "-c", _conf(tmp_path, file="dups.csv"), server=tables_server, home=tmp_path
    )
    assert (dups.returncode, dups.envelope["retcode"]) == (2, 10201)
    assert "line 4 repeats id '1' of line 2" in dups.envelope["retmsg"]

    bad = await accord(
        "data", "upload", "-c", _conf(tmp_path, file="dups.csv", head=3), server=tables_server, home=tmp_path
    )
    assert (bad.returncode, bad.envelope["retcode"]) == (2, 10126) and "'head'" in bad.envelope["retmsg"]
    nowhere = await accord(
        "data", "upload", "-c", _conf(tmp_path, file="none.csv"), server=tables_server, home=tmp_path
    )
    assert (nowhere.returncode, nowhere.envelope["retcode"]) == (2, 10201)
    assert str(tmp_path / "none.csv") in nowhere.envelope["retmsg"]

    out = tmp_path / "never.csv"
    missing = await accord(
        "data", "download", "-n", "x", "-t", "y", "-o", str(out), server=tables_server, home=tmp_path
    )
    assert (missing.returncode, missing.envelope["retcode"]) == (3, 40401)
    assert not out.exists() and list(tmp_path.glob(".never.csv*")) == []
