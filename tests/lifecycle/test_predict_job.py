"""Train FATE's hetero-LR example, deploy it, and run FATE's own predict example with the new version."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from accord.api.app import create_app
from accord.dsl_compiler import read_json_file
from accord.errors import ArgumentError, ConflictError, DeployComponentError, RecordNotFound
from accord.model_store import ModelKey, ModelStore
from accord.persistence import ModelRepository
from accord.status import JobStatus
from tests.pipeline.test_hetero_lr_examples import LR_EXAMPLES, guest_output, run_example
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

CPN_LIST = "reader_0,data_transform_0,intersection_0,hetero_lr_0"


def scores_by_id(site: RunningSite, job_id: str) -> np.ndarray:
    output = guest_output(site, job_id, "hetero_lr_0")
    order = np.argsort(output.ids().astype(str))
    return np.asarray(output.column("predict_score"))[order]


async def test_train_deploy_predict(site: RunningSite) -> None:
    train_id = await run_example(site, "hetero_lr_normal")
    record = site.jobs.get(train_id, "guest", 9999)
    assert record.model_id and record.model_version == train_id

    # Over the HTTP API, as `accord model deploy` calls it.
    transport = httpx.ASGITransport(app=create_app(site.site.jobs, deployment=site.site.deployment))
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as http:
        model = {"model_id": record.model_id, "model_version": train_id}
        reply = (await http.post("/v1/model/deploy", json={**model, "cpn_list": CPN_LIST})).json()
        assert reply["retcode"] == 0, reply
        deployed = reply["data"]["model_version"]
        assert deployed != train_id and reply["data"]["components"] == CPN_LIST.split(",")
        version = {"model_id": record.model_id, "model_version": deployed}
        dsl = (await http.post("/v1/model/get/predict/dsl", json=version)).json()["data"]
        conf = (await http.post("/v1/model/get/predict/conf", json=version)).json()["data"]
        # Not deployed: the training version has no predict DSL.
        refused = (await http.post("/v1/model/get/predict/dsl", json=model)).json()
        assert refused["retcode"] == ConflictError.code and "not deployed" in refused["retmsg"]

    # The generated predict DSL is FATE's own predict example.
    fate_predict = read_json_file(LR_EXAMPLES / "hetero_lr_normal_predict_dsl.json", "dsl")
    assert dsl == fate_predict
    assert conf["job_parameters"]["common"] == {
        "job_type": "predict",
        "model_id": record.model_id,
        "model_version": deployed,
    }
    assert (
        conf["component_parameters"]["role"]["guest"]["0"]["reader_0"]["table"]["name"]
        == "breast_hetero_guest"
    )
    # Every party got its part: the arbiter keeps its own LR model, the host its DataTransform.
    assert site.site.deployment.pipeline(record.model_id, deployed)["parent_model_version"] == train_id
    store = ModelStore(site.settings.home / "models", ModelRepository(site.site.database))
    for role, party_id, component in (("arbiter", 10000, "hetero_lr_0"), ("host", 10000, "data_transform_0")):
        deployed_model = store.load(ModelKey(record.model_id, deployed, role, party_id, component))
        assert deployed_model == store.load(ModelKey(record.model_id, train_id, role, party_id, component))

    # FATE's predict example, unchanged but for the model it names.
    predict_conf = read_json_file(LR_EXAMPLES / "hetero_lr_normal_predict_conf.json", "conf")
    predict_conf["job_parameters"]["common"].update(model_id=record.model_id, model_version=deployed)
    predict_id = await site.submit(fate_predict, predict_conf)
    result = await site.site.jobs.wait(predict_id)
    assert result.status == JobStatus.SUCCESS, result
    np.testing.assert_allclose(scores_by_id(site, predict_id), scores_by_id(site, train_id), atol=1e-9)
    # As FATE: the predict job runs with the training conf's parameters of its components beneath its own
    # (the predict conf names only its tables).
    ran = site.jobs.get(predict_id, "guest", 9999).runtime_conf["component_parameters"]
    training = read_json_file(LR_EXAMPLES / "hetero_lr_normal_conf.json", "conf")["component_parameters"]
    assert ran["common"]["hetero_lr_0"] == training["common"]["hetero_lr_0"]
    assert (
        ran["role"]["guest"]["0"]["reader_0"]
        == predict_conf["component_parameters"]["role"]["guest"]["0"]["reader_0"]
    )
    # A predict conf that names no tables reads the training tables, as FATE merges the confs.
    bare = {key: value for key, value in predict_conf.items() if key != "component_parameters"}
    bare_id = await site.submit(fate_predict, bare)
    assert (await site.site.jobs.wait(bare_id)).status == JobStatus.SUCCESS
    # The conf deploy generated runs too.
    generated_id = await site.submit(dsl, conf)
    assert (await site.site.jobs.wait(generated_id)).status == JobStatus.SUCCESS


async def test_deploy_errors(site: RunningSite) -> None:
    deployment = site.site.deployment
    with pytest.raises(RecordNotFound, match="no model"):
        await deployment.deploy("guest-9999#host-10000#model", "20990101000000000000000", CPN_LIST)
    with pytest.raises(RecordNotFound, match="no model"):
        deployment.predict_dsl("guest-9999#host-10000#model", "nope")
    train_id = await run_example(site, "hetero_lr_normal")
    model_id = site.jobs.get(train_id, "guest", 9999).model_id
    assert model_id is not None
    with pytest.raises(DeployComponentError, match="data_transform_0"):
        await deployment.deploy(model_id, train_id, "reader_0,intersection_0,hetero_lr_0")
    with pytest.raises(DeployComponentError, match="not in the training DSL"):
        await deployment.deploy(model_id, train_id, "reader_0,hetero_lr_9")


async def test_predict_jobs_refused_clearly(site: RunningSite) -> None:
    train_id = await run_example(site, "hetero_lr_normal")
    model_id = site.jobs.get(train_id, "guest", 9999).model_id
    assert model_id is not None
    dsl = read_json_file(LR_EXAMPLES / "hetero_lr_normal_predict_dsl.json", "dsl")

    def conf(version: str, **roles: list[int]) -> dict[str, Any]:
        body = read_json_file(LR_EXAMPLES / "hetero_lr_normal_predict_conf.json", "conf")
        body["job_parameters"]["common"].update(model_id=model_id, model_version=version)
        body["role"].update(roles)
        return body

    with pytest.raises(RecordNotFound, match="no model"):
        await site.submit(dsl, conf("20990101000000000000000"))
    with pytest.raises(ConflictError, match="not deployed"):
        await site.submit(dsl, conf(train_id))
    partial = await site.site.deployment.deploy(
        model_id, train_id, "reader_0,data_transform_0,intersection_0"
    )
    with pytest.raises(DeployComponentError, match=r"pipeline\.hetero_lr_0\.model"):
        await site.submit(dsl, conf(partial.model_version))
    full = await site.site.deployment.deploy(model_id, train_id, CPN_LIST)
    with pytest.raises(ArgumentError, match="parties"):
        await site.submit(dsl, conf(full.model_version, host=[10001]))
