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
from accord.components.sdk import Dataset
from accord.model_store import ModelStore
from accord.persistence import JobRepository, ModelRepository
from accord.serving import InferenceClient, ServingPeers, ServingServer, ServingService
from accord.status import JobStatus
from accord.storage import TableStore, UploadConf
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


def upload(trained: Trained, name: str) -> None:
    """FATE's ``<name>_hetero_guest`` and ``_host`` tables, in namespace ``experiment``."""
    for side in ("guest", "host"):
        trained.site.site.tables.upload(
            UploadConf(
                file=str(DATA / f"{name}_hetero_{side}.csv"),
                table_name=f"{name}_hetero_{side}",
                namespace="experiment",
                head=1,
                partition=2,
                drop=1,
            )
        )


def client_rows(name: str, side: str = "guest") -> dict[str, dict[str, float]]:
    """A party's rows as a client sends them (or a host's table holds them): sample id → features by
    name, without the label."""
    with (DATA / f"{name}_hetero_{side}.csv").open(newline="") as handle:
        return {
            row["id"]: {key: float(value) for key, value in row.items() if key not in ("id", "y")}
            for row in csv.DictReader(handle)
        }


async def deploy_and_predict(
    trained: Trained, dsl: dict[str, Any], conf: dict[str, Any], cpn_list: str, component: str
) -> tuple[str, str, Dataset]:
    """Train, deploy ``cpn_list`` and run the deployed version's predict job: the model id, the deployed
    version and ``component``'s predict output on the guest."""
    site = trained.site
    train_id = await site.submit(dsl, conf)
    assert (await site.site.jobs.wait(train_id)).status == JobStatus.SUCCESS
    model_id = site.jobs.get(train_id, "guest", GUEST).model_id or ""
    deployed = await site.site.deployment.deploy(model_id, train_id, cpn_list)
    predict_conf = site.site.deployment.predict_conf(model_id, deployed.model_version)
    predict_id = await site.submit(deployed.predict_dsl, predict_conf)
    assert (await site.site.jobs.wait(predict_id)).status == JobStatus.SUCCESS
    return model_id, deployed.model_version, guest_output(site, predict_id, component)


async def load_and_bind(trained: Trained, model_id: str, version: str, service_id: str) -> dict[str, Any]:
    """``/v1/model/load`` then ``/v1/model/bind``; the loaded parties by role."""
    async with trained.api() as http:
        model = {"model_id": model_id, "model_version": version}
        loaded = await call(http, "/v1/model/load", **model)
        assert loaded["retcode"] == 0, loaded
        bound = await call(http, "/v1/model/bind", service_id=service_id, **model)
        assert bound["retcode"] == 0, bound
    return {party["party"]["role"]: party for party in loaded["data"]["parties"]}


def restarted_service(trained: Trained) -> ServingService:
    """Another service over the site's home: what a restarted site builds (call ``restore``)."""
    site = trained.site.site
    records = ModelRepository(site.database)
    return ServingService(
        site.settings,
        ModelStore(site.settings.home / "models", records),
        records,
        JobRepository(site.database),
        TableStore.for_site(site.settings, site.database),
        ServingPeers.from_settings(site.settings),
    )


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
