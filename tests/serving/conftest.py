"""One trained breast HeteroLR model on a standalone site, shared by the folder's tests (training is the
slow part): loaded and bound to service id ``breast`` over the HTTP API, its Inference endpoint on a
free port."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from accord.api.app import create_app
from accord.serving import InferenceClient, ServingServer
from tests.pipeline.test_hetero_lr_examples import DATA, guest_output, run_example
from tests.scheduling.harness import RunningSite, site_settings, start_running_site, stop_running_site
from tests.support import free_port

GUEST, HOST = 9999, 10000
SERVICE_ID = "breast"


@dataclass
class Trained:
    site: RunningSite
    job_id: str
    model_id: str
    # The training job's own output, by sample id: predict_score and predict_result.
    scores: dict[str, float]
    labels: dict[str, int]
    # The guest's rows as a client sends them: sample id → features by name.
    rows: dict[str, dict[str, float]]
    server: ServingServer
    client: InferenceClient
    # What /v1/model/load answered.
    loaded: dict[str, Any]

    def api(self) -> httpx.AsyncClient:
        """The site's HTTP API with online inference, in process."""
        app = create_app(self.site.site.jobs, serving=self.site.site.serving)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://accord.test")


async def call(http: httpx.AsyncClient, path: str, **body: Any) -> dict[str, Any]:
    reply: dict[str, Any] = (await http.post(path, json=body)).json()
    return reply


def guest_rows() -> dict[str, dict[str, float]]:
    with (DATA / "breast_hetero_guest.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        return {
            row["id"]: {name: float(value) for name, value in row.items() if name not in ("id", "y")}
            for row in reader
        }


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def trained(
    temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Trained]:
    address = temporal_env.client.service_client.config.target_host
    settings = site_settings(tmp_path_factory.mktemp("serving"), address, serving_port=free_port())
    site = await start_running_site(temporal_env.client, settings)
    server = ServingServer.from_settings(site.site.serving, settings)
    try:
        job_id = await run_example(site, "hetero_lr_normal")
        output = guest_output(site, job_id, "hetero_lr_0")
        ids = [str(sid) for sid in output.ids()]
        scores = dict(zip(ids, output.column("predict_score").tolist(), strict=True))
        labels = dict(zip(ids, (int(v) for v in output.column("predict_result")), strict=True))
        model_id = site.jobs.get(job_id, "guest", GUEST).model_id or ""
        await server.start()
        client = InferenceClient(f"127.0.0.1:{settings.serving_port}")
        trained = Trained(site, job_id, model_id, scores, labels, guest_rows(), server, client, {})
        async with trained.api() as http:
            model = {"model_id": model_id, "model_version": job_id}
            trained.loaded = await call(http, "/v1/model/load", **model)
            bound = await call(http, "/v1/model/bind", service_id=SERVICE_ID, **model)
            assert bound["retcode"] == 0, bound
        yield trained
        await client.close()
    finally:
        await server.stop()
        await stop_running_site(site)
