"""Bad requests get a 4xx coded envelope naming what is wrong, never a 5xx; the OpenAPI document is valid."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from tests.scheduling.jobs import chain_dsl, conf

pytestmark = pytest.mark.asyncio(loop_scope="session")

GOOD = {"job_dsl": chain_dsl(["TestSleep"]), "job_runtime_conf": conf()}
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("path", "raw", "status", "retcode", "says"),
    [
        ("/v1/job/submit", b'{"job_dsl": {', 400, 10101, "not valid JSON"),
        ("/v1/job/submit", b"", 400, 101, "no body"),
        ("/v1/job/submit", b"[1, 2]", 400, 101, "must be a JSON object"),
        ("/v1/job/submit", b'"job_dsl"', 400, 101, "must be a JSON object"),
        ("/v1/job/submit", b'{"job_runtime_conf": {}}', 400, 101, "'job_dsl' is required"),
        ("/v1/job/submit", b'{"job_dsl": [], "job_runtime_conf": {}}', 400, 101, "'job_dsl'"),
        ("/v1/job/query", b'{"job_id": "1", "party": 9999}', 400, 101, "unknown field 'party'"),
        ("/v1/job/query", b'{"job_id": "1", "party_id": "nine"}', 400, 101, "'party_id'"),
        ("/v1/job/query", b'{"job_id": "1", "role": "boss"}', 400, 101, "'role'"),
        ("/v1/job/query", b'{"job_id": 5}', 400, 101, "'job_id'"),
        ("/v1/job/list/job", b'{"status": "sleeping"}', 400, 101, "'status'"),
        ("/v1/job/list/job", b'{"limit": 0}', 400, 101, "'limit'"),
        ("/v1/job/stop", b'{"job_id": "1", "stop_status": "failed"}', 400, 101, "'stop_status'"),
        ("/v1/job/rerun", b'{"job_id": "1", "force": "maybe"}', 400, 101, "'force'"),
        ("/v1/job/query", b'{"job_id": "nope"}', 404, 40401, "no job nope"),
        ("/v1/job/stop", b'{"job_id": "nope"}', 404, 40401, "no job nope"),
        ("/v1/job/rerun", b'{"job_id": "nope"}', 404, 40401, "no job nope"),
        ("/v1/job/task/query", b'{"job_id": "nope"}', 404, 40401, "no job nope"),
        ("/v1/job/log/download", b'{"job_id": "nope"}', 404, 40401, "no job nope"),
        ("/v1/job/nope", b"{}", 404, 404, "no endpoint POST /v1/job/nope"),
    ],
)
async def test_bad_request_is_a_coded_4xx(
    api: httpx.AsyncClient, path: str, raw: bytes, status: int, retcode: int, says: str
) -> None:
    response = await api.post(path, content=raw, headers=JSON)
    envelope = response.json()
    assert (response.status_code, envelope["retcode"]) == (status, retcode), envelope
    assert says in envelope["retmsg"]
    assert set(envelope) == {"retcode", "retmsg", "data", "jobId"}


async def test_every_invalid_field_is_listed(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/job/rerun", json={"job_id": 1, "force": "x", "extra": 1})
    envelope = response.json()
    assert response.status_code == 400
    assert {e["field"] for e in envelope["data"]["errors"]} == {"job_id", "force", "extra"}
    assert "and 2 more" in envelope["retmsg"]


@pytest.mark.parametrize(
    ("change", "retcode", "says"),
    [
        ({"job_dsl": {"components": {"c0": {"module": "NoSuchModule"}}}}, 10104, "NoSuchModule"),
        ({"job_dsl": {"components": []}}, 10102, "components"),
        ({"job_runtime_conf": {"dsl_version": 2}}, None, ""),
        ({"job_runtime_conf": {**conf(), "initiator": {"role": "guest", "party_id": "x"}}}, None, ""),
        ({"job_runtime_conf": {**conf(), "job_parameters": {"common": {"task_cores": "many"}}}}, None, ""),
    ],
)
async def test_job_the_compiler_rejects_is_a_400_with_its_code(
    api: httpx.AsyncClient, change: dict[str, Any], retcode: int | None, says: str
) -> None:
    response = await api.post("/v1/job/submit", json={**GOOD, **change})
    envelope = response.json()
    assert response.status_code == 400, envelope
    assert envelope["retcode"] // 100 == 101 or envelope["retcode"] == 101
    if retcode is not None:
        assert envelope["retcode"] == retcode
    assert says in envelope["retmsg"]


async def test_wrong_method_is_a_coded_405(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/job/submit")
    assert response.status_code == 405
    assert response.json()["retcode"] == 101
    assert response.headers["allow"] == "POST"


async def test_version(api: httpx.AsyncClient) -> None:
    from accord import __version__

    response = await api.get("/v1/version")
    assert response.json()["data"] == {"accord": __version__, "API": "v1"}


async def test_openapi_document_is_valid_and_documents_envelopes(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    validate(document)
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            assert responses["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorEnvelope"
            }
            if not path.endswith("/download"):  # file endpoints answer bytes, errors as envelopes
                ok = responses["200"]["content"]["application/json"]["schema"]["$ref"]
                assert ok.startswith("#/components/schemas/Envelope_"), (method, path)
            if method == "post":
                assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorEnvelope"
                )
    envelope = document["components"]["schemas"]["Envelope_SubmitResult_"]["properties"]
    assert set(envelope) == {"retcode", "retmsg", "data", "jobId"}
