"""``accord model …`` run as a user runs it, against a real uvicorn serving a real site."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from accord.api.app import create_app
from accord.errors import ConflictError, DataFormatError, RecordNotFound
from accord.model_store import ModelKey
from tests.api.helpers import accord
from tests.http_server import serve_http
from tests.scheduling.harness import RunningSite

from .support import MODEL_ID, VERSION, rewrite
from .test_api import LR, saved

pytestmark = pytest.mark.asyncio(loop_scope="session")

IDENTITY = ("--model-id", MODEL_ID, "--model-version", VERSION)


@pytest_asyncio.fixture(loop_scope="session")
async def models_server(site: RunningSite) -> AsyncIterator[str]:
    """A real uvicorn serving the site's models, as ``accord server`` does."""
    app = create_app(site.site.jobs, models=site.site.models)
    async with serve_http(app, site.settings.http_host, site.settings.http_port) as address:
        yield address


async def test_model_commands(site: RunningSite, models_server: str, tmp_path: Path) -> None:
    store = saved(site)

    async def run(*args: str) -> tuple[int, dict[str, Any]]:
        done = await accord("model", *args, server=models_server, home=tmp_path)
        return done.returncode, done.envelope

    code, listed = await run("list", "-r", "host")
    assert code == 0 and [(e["role"], e["party_id"]) for e in listed["data"]] == [("host", 10000)]

    code, exported = await run("export", *IDENTITY, "-r", "guest", "-p", "9999", "-o", str(tmp_path))
    assert code == 0, exported
    data = exported["data"]
    archive = Path(data["path"])
    assert archive.parent == tmp_path and data["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert "manifest.sha256" in zipfile.ZipFile(archive).namelist()

    code, deleted = await run("delete", *IDENTITY, "-r", "guest")
    assert code == 0 and len(deleted["data"]) == 1
    code, missing = await run("query", *IDENTITY, "-r", "guest")
    assert code == 3 and missing["retcode"] == RecordNotFound.code

    def drop_model(members: dict[str, bytes]) -> None:
        del members["models/hetero_lr_0.json"]

    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(rewrite(archive.read_bytes(), drop_model))
    code, refused = await run("import", "-i", str(tampered))
    assert code == 2 and refused["retcode"] == DataFormatError.code and "hetero_lr_0" in refused["retmsg"]

    code, imported = await run("import", "-i", str(archive))
    assert code == 0 and imported["data"]["imported"] is True
    key = ModelKey(MODEL_ID, VERSION, "guest", 9999, "hetero_lr_0")
    assert store.load(key) == {**LR, "role": "guest"}
    code, again = await run("import", "-i", str(archive))
    assert code == 1 and again["retcode"] == ConflictError.code
    code, forced = await run("import", "-i", str(archive), "--force")
    assert code == 0, forced

    code, full = await run("query", *IDENTITY, "-r", "guest", "-p", "9999", "--with-models")
    assert code == 0
    [entry] = full["data"]
    assert entry["models"]["hetero_lr_0"] == {**LR, "role": "guest"} and entry["imported"] is True
