"""FATE's homo-LR train and predict examples, unchanged, through a whole standalone site.

Real Temporal, real gRPC, real SQLite, real X25519 secure aggregation; host 10000 is also the arbiter
(one party id in two roles). The quality bar: the AUC over both clients' training rows within 0.01 of
scikit-learn's LogisticRegression trained on the union of the two files, each standardised on its own
(FeatureScale's default standard_scale, fitted per party). The deployed model, run through FATE's
predict example, must give the guest the training scores to 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from accord.components.sdk import Dataset, layout
from accord.dsl_compiler import read_json_file
from accord.persistence import TableMetaRepository
from accord.status import JobStatus
from accord.storage import TableStore, UploadConf
from tests.corpus import DSL_V2, FATE_ROOT
from tests.scheduling.harness import RunningSite

pytestmark = pytest.mark.asyncio(loop_scope="session")

DATA = FATE_ROOT / "examples" / "data"
EXAMPLES = DSL_V2 / "homo_logistic_regression"
AUC_TOLERANCE = 0.01
CPN_LIST = "reader_0,data_transform_0,scale_0,homo_lr_0"


def upload_breast_homo(site: RunningSite) -> None:
    store = TableStore(site.settings.home / "tables", TableMetaRepository(site.site.database))
    for side in ("guest", "host"):
        conf = UploadConf(
            file=str(DATA / f"breast_homo_{side}.csv"),
            table_name=f"breast_homo_{side}",
            namespace="experiment",
            head=1,
            partition=4,
        )
        store.upload(conf)


def sklearn_auc() -> float:
    parts = []
    for side in ("guest", "host"):
        table = np.loadtxt(DATA / f"breast_homo_{side}.csv", delimiter=",", skiprows=1)
        features = table[:, 2:]
        parts.append(((features - features.mean(axis=0)) / features.std(axis=0), table[:, 1]))
    features = np.vstack([part[0] for part in parts])
    labels = np.concatenate([part[1] for part in parts])
    model = LogisticRegression(max_iter=5000).fit(features, labels)
    return float(roc_auc_score(labels, model.decision_function(features)))


def output(site: RunningSite, job_id: str, role: str, party_id: int) -> Dataset:
    party = layout.party_dir(site.settings.home, job_id, role, party_id)
    return Dataset.load(layout.data_path(party, "homo_lr_0", "data"))


def scores_by_id(data: Dataset) -> np.ndarray:
    order = np.argsort(data.ids().astype(str))
    return np.asarray(data.column("predict_score"))[order]


async def test_homo_lr_train_then_deployed_predict(site: RunningSite) -> None:
    upload_breast_homo(site)
    dsl = read_json_file(EXAMPLES / "homo_lr_train_dsl.json", "dsl")
    conf = read_json_file(EXAMPLES / "homo_lr_train_conf.json", "conf")
    train_id = await site.submit(dsl, conf)
    result = await site.site.jobs.wait(train_id)
    assert result.status == JobStatus.SUCCESS, result

    guest, host = output(site, train_id, "guest", 9999), output(site, train_id, "host", 10000)
    assert len(guest) == 227 and len(host) == 228
    labels = np.concatenate([guest.column("label"), host.column("label")])
    scores = np.concatenate([guest.column("predict_score"), host.column("predict_score")])
    auc = roc_auc_score(labels, scores)
    assert auc >= sklearn_auc() - AUC_TOLERANCE
    assert roc_auc_score(guest.column("label"), guest.column("predict_score")) >= sklearn_auc() - 0.02

    record = site.jobs.get(train_id, "guest", 9999)
    assert record.model_id
    deployed = await site.site.deployment.deploy(record.model_id, train_id, CPN_LIST)

    predict_dsl = read_json_file(EXAMPLES / "homo-lr-normal-predict-dsl.json", "dsl")
    predict_conf = read_json_file(EXAMPLES / "homo-lr-normal-predict-conf.json", "conf")
    predict_conf["job_parameters"]["common"].update(
        model_id=record.model_id, model_version=deployed.model_version
    )
    predict_id = await site.submit(predict_dsl, predict_conf)
    result = await site.site.jobs.wait(predict_id)
    assert result.status == JobStatus.SUCCESS, result
    predicted = output(site, predict_id, "guest", 9999)
    assert set(predicted.column("type")) == {"test"}
    np.testing.assert_allclose(scores_by_id(predicted), scores_by_id(guest), rtol=0, atol=1e-9)
    host_predicted = output(site, predict_id, "host", 10000)
    np.testing.assert_allclose(scores_by_id(host_predicted), scores_by_id(host), rtol=0, atol=1e-9)
