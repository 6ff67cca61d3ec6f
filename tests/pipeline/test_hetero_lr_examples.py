"""FATE's own hetero-LR examples, unchanged, through a whole standalone site.

Real Temporal, real gRPC (control and data plane), real SQLite, real Paillier. The quality bar is the
issue's: the guest's AUC on the training rows within 0.01 of scikit-learn's LogisticRegression on the
same joined data.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from accord.api.app import create_app
from accord.components.sdk import Dataset, layout
from accord.dsl_compiler import read_json_file
from accord.persistence import TableMetaRepository
from accord.status import JobStatus
from accord.storage import TableStore, UploadConf
from tests.corpus import DSL_V2, FATE_ROOT
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

DATA = FATE_ROOT / "examples" / "data"
LR_EXAMPLES = DSL_V2 / "hetero_logistic_regression"
AUC_TOLERANCE = 0.01


def upload_breast(site: RunningSite) -> None:
    store = TableStore(site.settings.home / "tables", TableMetaRepository(site.site.database))
    for side in ("guest", "host"):
        conf = UploadConf(
            file=str(DATA / f"breast_hetero_{side}.csv"),
            table_name=f"breast_hetero_{side}",
            namespace="experiment",
            head=1,
            partition=4,
        )
        store.upload(conf)


def sklearn_auc() -> float:
    guest = np.loadtxt(DATA / "breast_hetero_guest.csv", delimiter=",", skiprows=1)
    host = np.loadtxt(DATA / "breast_hetero_host.csv", delimiter=",", skiprows=1)
    host = host[np.argsort(host[:, 0])]
    guest = guest[np.argsort(guest[:, 0])]
    assert np.array_equal(guest[:, 0], host[:, 0])
    joined = np.hstack([guest[:, 2:], host[:, 1:]])
    model = LogisticRegression(max_iter=1000).fit(joined, guest[:, 1])
    return float(roc_auc_score(guest[:, 1], model.predict_proba(joined)[:, 1]))


async def run_example(site: RunningSite, name: str) -> str:
    upload_breast(site)
    dsl = read_json_file(LR_EXAMPLES / f"{name}_dsl.json", "dsl")
    conf = read_json_file(LR_EXAMPLES / f"{name}_conf.json", "conf")
    job_id = await site.submit(dsl, conf)
    result = await site.site.jobs.wait(job_id)
    assert result.status == JobStatus.SUCCESS, result
    return job_id


def guest_output(site: RunningSite, job_id: str, component: str) -> Dataset:
    party = layout.party_dir(site.settings.home, job_id, "guest", 9999)
    return Dataset.load(layout.data_path(party, component, "data"))


def evaluation_summary(site: RunningSite, job_id: str) -> dict[str, Any]:
    party = layout.party_dir(site.settings.home, job_id, "guest", 9999)
    summary: dict[str, Any] = json.loads(
        (layout.output_dir(party, "evaluation_0") / "summary.json").read_text()
    )
    return summary


async def test_hetero_lr_normal(site: RunningSite) -> None:
    job_id = await run_example(site, "hetero_lr_normal")
    output = guest_output(site, job_id, "hetero_lr_0")
    auc = roc_auc_score(output.column("label"), output.column("predict_score"))
    assert auc >= sklearn_auc() - AUC_TOLERANCE
    # Evaluation's AUC is the same number, computed by our own metrics code from the same scores.
    assert evaluation_summary(site, job_id)["hetero_lr_0"]["train"]["auc"] == pytest.approx(auc, abs=1e-6)
    assert len(output) == 569


async def test_hetero_lr_multi_host(site: RunningSite) -> None:
    job_id = await run_example(site, "hetero_lr_multi_host")
    output = guest_output(site, job_id, "hetero_lr_0")
    auc = roc_auc_score(output.column("label"), output.column("predict_score"))
    assert auc >= sklearn_auc() - AUC_TOLERANCE


async def test_hetero_lr_validate(site: RunningSite) -> None:
    job_id = await run_example(site, "hetero_lr_validate")
    summary = evaluation_summary(site, job_id)
    assert summary["hetero_lr_0"]["train"]["auc"] >= sklearn_auc() - AUC_TOLERANCE
    assert set(summary["hetero_lr_0"]) == {"train", "validate"}
    assert summary["hetero_lr_1"]["test"]["auc"] >= sklearn_auc() - AUC_TOLERANCE


async def test_tracking_shows_what_the_components_recorded(site: RunningSite) -> None:
    job_id = await run_example(site, "hetero_lr_normal")
    app = create_app(site.site.jobs, tracking=site.site.tracking)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as http:

        async def call(path: str, **body: Any) -> Any:
            reply = (await http.post(path, json={"job_id": job_id, **body})).json()
            assert reply["retcode"] == 0, reply
            return reply["data"]

        guest = {"role": "guest", "party_id": 9999}
        components = await call("/v1/tracking/component/list", **guest)
        assert [c["component_name"] for c in components] == [
            "reader_0",
            "data_transform_0",
            "intersection_0",
            "hetero_lr_0",
            "evaluation_0",
        ]
        names = await call("/v1/tracking/component/metrics", component_name="evaluation_0", **guest)
        assert "hetero_lr_0" in names["train"]
        loss = await call(
            "/v1/tracking/component/metric/all", component_name="hetero_lr_0", role="arbiter", party_id=10000
        )
        points = loss["train"]["loss"]["data"]
        assert points and points[-1][1] < points[0][1]
        model = await call("/v1/tracking/component/output/model", component_name="hetero_lr_0", **guest)
        assert set(model["model"]["param"]["weight"]) == {f"x{i}" for i in range(10)}
        params = await call("/v1/tracking/component/parameters", component_name="hetero_lr_0", **guest)
        assert params["parameters"]["optimizer"] == "rmsprop"
        data = await call("/v1/tracking/component/output/data", component_name="hetero_lr_0", **guest)
        assert data["total"] == 569 and len(data["data"]) == 100
        assert data["header"][:3] == ["id", "label", "predict_result"]
        csv_reply = await http.post(
            "/v1/tracking/component/output/data/download",
            json={"job_id": job_id, "component_name": "data_transform_0", **guest},
        )
        lines = csv_reply.text.splitlines()
        assert lines[0].split(",")[:2] == ["id", "y"] and len(lines) == 570
        missing = (
            await http.post(
                "/v1/tracking/component/metrics",
                json={"job_id": job_id, "component_name": "nope", **guest},
            )
        ).json()
        assert missing["retcode"] == 40401 and "reader_0" in missing["retmsg"]
