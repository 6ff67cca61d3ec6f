"""``/v1/model/{query,export,import,delete}`` through the ASGI app of a real site."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from openapi_spec_validator import validate

from accord.api.app import create_app
from accord.errors import ConflictError, DataFormatError, PathNotAllowed, RecordNotFound, RetCode
from accord.model_store import ModelKey, ModelStore
from accord.persistence import ModelRepository
from tests.scheduling.harness import RunningSite

from .support import MODEL_ID, VERSION, rewrite

pytestmark = pytest.mark.asyncio(loop_scope="session")

LR = {"param": {"weight": {"x0": 0.25}, "intercept": -0.5}}
GUEST = {"model_id": MODEL_ID, "model_version": VERSION, "role": "guest", "party_id": 9999}
MODEL_PATHS = ("/v1/model/query", "/v1/model/export", "/v1/model/import", "/v1/model/delete")


def site_store(site: RunningSite) -> ModelStore:
    return ModelStore(site.settings.home / "models", ModelRepository(site.site.database))


def saved(site: RunningSite) -> ModelStore:
    """Models on the site's guest and host, as a training job's tasks leave them."""
    store = site_store(site)
    for role, party_id in (("guest", 9999), ("host", 10000)):
        for component, model in (("hetero_lr_0", {**LR, "role": role}), ("data_transform_0", {"h": [1]})):
            store.save(ModelKey(MODEL_ID, VERSION, role, party_id, component), model)
    return store


@pytest_asyncio.fixture(loop_scope="session")
async def api(site: RunningSite) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(site.site.jobs, models=site.site.models))
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as client:
        yield client


async def test_query_lists_versions_and_details_one(site: RunningSite, api: httpx.AsyncClient) -> None:
    saved(site)
    listed = (await api.post("/v1/model/query", json={})).json()
    assert listed["retcode"] == 0
    assert sorted((e["role"], e["party_id"]) for e in listed["data"]) == [("guest", 9999), ("host", 10000)]
    assert all(len(e["components"]) == 2 and "train_dsl" not in e for e in listed["data"])

    one = (await api.post("/v1/model/query", json={**GUEST, "include_models": True})).json()
    [entry] = one["data"]
    assert entry["models"]["hetero_lr_0"] == {**LR, "role": "guest"}
    assert set(entry) >= {"train_dsl", "train_runtime_conf", "party_plan", "job_status", "create_time"}

    refused = await api.post("/v1/model/query", json={"role": "guest", "include_models": True})
    assert refused.status_code == 400 and refused.json()["retcode"] == int(RetCode.ARGUMENT)
    missing = await api.post("/v1/model/query", json={"model_id": MODEL_ID, "model_version": "nope"})
    assert missing.status_code == 404 and missing.json()["retcode"] == RecordNotFound.code
    misspelt = await api.post("/v1/model/query", json={"modelid": MODEL_ID})
    assert misspelt.status_code == 400 and "modelid" in misspelt.json()["retmsg"]


async def test_export_delete_import_round_trip(
    site: RunningSite, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    store = saved(site)
    exported = await api.post("/v1/model/export", json=GUEST)
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    archive = exported.content
    assert exported.headers["x-archive-sha256"] == hashlib.sha256(archive).hexdigest()
    assert "attachment" in exported.headers["content-disposition"]
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(archive)).namelist()
    unknown = await api.post("/v1/model/export", json={**GUEST, "party_id": 1})
    assert unknown.status_code == 404 and unknown.json()["retcode"] == RecordNotFound.code

    deleted = (await api.post("/v1/model/delete", json={**GUEST, "role": "guest"})).json()
    assert [(e["role"], e["party_id"]) for e in deleted["data"]] == [("guest", 9999)]
    key = ModelKey(MODEL_ID, VERSION, "guest", 9999, "hetero_lr_0")
    with pytest.raises(RecordNotFound):
        store.load(key)

    # A changed model byte: refused, and the site still holds nothing of the guest's version.
    tampered = rewrite(
        archive, lambda m: m.update({"models/hetero_lr_0.json": m["models/hetero_lr_0.json"][:-1]})
    )
    bad = await api.post("/v1/model/import", content=tampered, headers={"content-type": "application/zip"})
    assert bad.status_code == 400 and bad.json()["retcode"] == DataFormatError.code
    assert "hetero_lr_0" in bad.json()["retmsg"]
    assert (await api.post("/v1/model/query", json={"role": "guest"})).json()["data"] == []

    imported = await api.post(
        "/v1/model/import", content=archive, headers={"content-type": "application/zip"}
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["data"]["imported"] is True
    assert store.load(key) == {**LR, "role": "guest"}
    again = await api.post("/v1/model/import", content=archive, headers={"content-type": "application/zip"})
    assert again.status_code == 409 and again.json()["retcode"] == ConflictError.code
    forced = await api.post("/v1/model/import?force=true", content=archive)
    assert forced.json()["retcode"] == 0

    # Like /v1/data/upload, a JSON body may name a file on the site instead, only below upload_roots.
    path = tmp_path / "guest.zip"
    path.write_bytes(archive)
    by_path = await api.post("/v1/model/import", json={"file": str(path), "force_update": True})
    assert (by_path.status_code, by_path.json()["retcode"]) == (403, PathNotAllowed.code)
    assert "upload_roots" in by_path.json()["retmsg"]
    rooted = create_app(site.site.jobs, models=site.site.models, upload_roots=(tmp_path,))
    transport = httpx.ASGITransport(app=rooted)
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as under_root:
        by_root = await under_root.post("/v1/model/import", json={"file": str(path), "force_update": True})
        assert by_root.json()["retcode"] == 0 and by_root.json()["data"]["role"] == "guest"
        no_file = await under_root.post("/v1/model/import", json={"file": str(tmp_path / "missing.zip")})
        assert no_file.status_code == 400 and "missing.zip" in no_file.json()["retmsg"]
    no_field = await api.post("/v1/model/import", json={"path": "x"})
    assert no_field.status_code == 400 and "'file' is required" in no_field.json()["retmsg"]
    empty = await api.post("/v1/model/import", content=b"")
    assert empty.status_code == 400

    gone = (await api.post("/v1/model/delete", json={"model_id": MODEL_ID, "model_version": VERSION})).json()
    assert len(gone["data"]) == 2
    assert (await api.post("/v1/model/delete", json=GUEST)).status_code == 404


async def test_openapi_documents_the_model_endpoints(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    validate(document)
    for path in MODEL_PATHS:
        responses = document["paths"][path]["post"]["responses"]
        assert "422" not in responses and "409" in responses, path
    export_ok = document["paths"]["/v1/model/export"]["post"]["responses"]["200"]["content"]
    assert "application/zip" in export_ok
    body = document["paths"]["/v1/model/import"]["post"]["requestBody"]["content"]
    assert {"application/zip", "application/json"} <= set(body)
