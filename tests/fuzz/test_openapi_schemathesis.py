"""schemathesis against the OpenAPI document of the whole API over a real site: no 5xx, replies as documented.

Every operation of ``/openapi.json`` (every router ``accord server`` wires) gets schema-valid (positive)
and schema-breaking (negative) requests from schemathesis; each reply must pass ``not_a_server_error``,
``response_schema_conformance`` and ``status_code_conformance``. The requests go to the app in process
over the session's event loop (the site and its Temporal client live there), hypothesis runs in a thread.
The site has no worker (tests/fuzz/test_api_fuzz.py); a job that would be accepted is terminated at once.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case

from accord.server import Site
from tests.fuzz import test_api_fuzz
from tests.fuzz.test_api_fuzz import LoopBridge

pytestmark = pytest.mark.asyncio(loop_scope="session")

# Fixtures of tests/fuzz/test_api_fuzz.py: the site without a worker, its whole API, a scratch cwd.
idle_site = test_api_fuzz.idle_site
full_api = test_api_fuzz.full_api
in_tmp = test_api_fuzz.in_tmp

BASE_URL = "http://accord.test"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
EXAMPLES_PER_OPERATION = 25
Operation = schemathesis.APIOperation[Any, Any, Any, Any]


def request_of(case: Case[Any]) -> dict[str, Any]:
    """The case as httpx.AsyncClient.request arguments (schemathesis serializes it for requests)."""
    sent = case.as_transport_kwargs(base_url=BASE_URL)
    request: dict[str, Any] = {
        "method": sent["method"],
        "url": sent["url"].removeprefix(BASE_URL),
        "headers": {k: v for k, v in sent.get("headers", {}).items() if k.lower() != "connection"},
        "params": sent.get("params") or None,
        "cookies": sent.get("cookies") or None,
    }
    if "json" in sent:
        request["content"] = json.dumps(sent["json"]).encode()
    elif sent.get("data") is not None:
        data = sent["data"]
        request["content"] = data.encode() if isinstance(data, str) else data
    return request


async def test_every_operation_answers_as_documented(
    idle_site: Site, full_api: httpx.AsyncClient, in_tmp: Path
) -> None:
    bridge = LoopBridge(asyncio.get_running_loop())
    schema = schemathesis.openapi.from_dict((await full_api.get("/openapi.json")).json())
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 29
    failures: list[str] = []

    def run(operation: Operation, mode: schemathesis.GenerationMode) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode))
        def check(case: Case[Any]) -> None:
            arguments = request_of(case)
            response = bridge.run(lambda: full_api.request(**arguments))
            if response.status_code == 200 and operation.path == "/v1/job/submit":
                job_id = response.json()["jobId"]
                bridge.run(lambda: idle_site.temporal.get_workflow_handle(job_id).terminate())
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            # No negative request exists for an operation without parameters or body (GET /v1/version).
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.path
        except Exception as error:
            failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {error}")

    def run_all() -> None:
        for operation in operations:
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                run(operation, mode)

    await asyncio.to_thread(run_all)
    assert not failures, "\n\n".join(failures)
