"""HomoLR one-vs-rest on FATE's vehicle_scale (4 classes) against scikit-learn's
OneVsRestClassifier(LogisticRegression) on the union of the guest's and host's rows.

With one full batch per round, FedAvg is full-batch gradient descent on the union, so each class's
model approaches scikit-learn's optimum of the same objective (L2, C = 1 / (alpha·n)); tolerance:
accuracy on the training rows within 0.01 of scikit-learn's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported

from ..harness import ComponentHarness
from . import vehicle

ACCURACY_TOLERANCE = 0.01
ALPHA = 0.001
CLASSES = ["0", "1", "2", "3"]

DSL: dict[str, Any] = {
    "components": {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        "homo_lr_0": {
            "module": "HomoLR",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "homo_lr_1": {
            "module": "HomoLR",
            "input": {"data": {"test_data": ["data_transform_0.data"]}, "model": ["homo_lr_0.model"]},
            "output": {"data": ["data"]},
        },
    }
}


def conf(**lr: Any) -> dict[str, Any]:
    params = {
        "penalty": "L2",
        "alpha": ALPHA,
        "optimizer": "sgd",
        "batch_size": -1,
        "learning_rate": 4.0,
        "decay": 0,
        "init_param": {"init_method": "zeros"},
        "max_iter": 150,
        "early_stop": "weight_diff",
        "tol": 1e-9,
        "encrypt_param": {"method": None},
        **lr,
    }
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
        "component_parameters": {"common": {"homo_lr_0": params}},
    }


def start(
    tmp_path: Path, made: list[ComponentHarness], job: dict[str, Any], engine: Engine | None
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, DSL, job, engine=engine)
    made.append(harness)
    vehicle.plant(harness.party_dir("guest", 9999), "data_transform_0", vehicle.homo("guest"), row_group=200)
    vehicle.plant(harness.party_dir("host", 10000), "data_transform_0", vehicle.homo("host"), row_group=200)
    return harness


def sklearn_accuracy() -> float:
    guest, host = vehicle.homo("guest"), vehicle.homo("host")
    features = np.vstack([guest.features(), host.features()])
    labels = np.concatenate([guest.column("label"), host.column("label")])
    reference = OneVsRestClassifier(LogisticRegression(C=1 / (ALPHA * len(labels)), max_iter=5000))
    return float((reference.fit(features, labels).predict(features) == labels).mean())


def test_short_run_equals_plain_gradient_descent_on_every_engine(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    """Three rounds (Spark's per-round cost keeps the test short): every class's scores equal plain
    gradient descent on the union (secure aggregation's fixed point: 2**-40)."""
    harness = start(tmp_path, harnesses, conf(max_iter=3), engine)
    harness.run_ok("homo_lr_0")
    guest, host = vehicle.homo("guest"), vehicle.homo("host")
    features = np.vstack([guest.features(), host.features()])
    labels = np.concatenate([guest.column("label"), host.column("label")])
    expected = []
    for positive in range(4):
        weights, intercept = vehicle.gradient_descent(
            features, (labels == positive).astype(float), iterations=3, rate=4.0, alpha=ALPHA
        )
        expected.append(vehicle.sigmoid(features @ weights + intercept))
    outputs = [harness.output(role, pid, "homo_lr_0") for role, pid in (("guest", 9999), ("host", 10000))]
    details = [json.loads(str(d)) for o in outputs for d in o.column("predict_detail")]
    federated = np.array([[d[c] for c in CLASSES] for d in details])
    np.testing.assert_allclose(federated, np.column_stack(expected), atol=1e-6)


def test_one_vs_rest_matches_sklearn_and_predicts_fates_multiclass_rows(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    """Run to convergence: on the local engine (150 rounds of 4 classes are minutes on Spark)."""
    harness = start(tmp_path, harnesses, conf(), None)
    harness.run_ok("homo_lr_0")
    outputs = [harness.output(role, pid, "homo_lr_0") for role, pid in (("guest", 9999), ("host", 10000))]
    labels = np.concatenate([o.column("label") for o in outputs])
    result = np.concatenate([o.column("predict_result") for o in outputs])
    accuracy = float((labels == result).mean())
    assert accuracy >= sklearn_accuracy() - ACCURACY_TOLERANCE
    # FATE's multi-class rows: the class, its score, and every class's score.
    first = outputs[0]
    detail = json.loads(str(first.column("predict_detail")[0]))
    assert sorted(detail) == CLASSES
    assert first.column("predict_score")[0] == pytest.approx(max(detail.values()))
    assert str(int(first.column("predict_result")[0])) == max(detail, key=detail.__getitem__)
    assert set(first.column("type")) == {"train"}

    model = harness.model("guest", 9999, "homo_lr_0")
    assert model["meta"]["need_one_vs_rest"] is True
    assert model["param"]["one_vs_rest_classes"] == CLASSES
    assert len(model["param"]["completed_models"]) == 4
    assert model == harness.model("host", 10000, "homo_lr_0") | {"param": model["param"]}

    # Predicting with the model gives the training rows' results again.
    harness.run_ok("homo_lr_1")
    predicted = harness.output("guest", 9999, "homo_lr_1")
    np.testing.assert_allclose(predicted.column("predict_score"), first.column("predict_score"), atol=1e-9)
    assert set(predicted.column("type")) == {"test"}

    # Online serving of a one-vs-rest model is refused with a coded error.
    from accord.components.homo_lr.component import HomoLR

    with pytest.raises(ComponentFeatureUnsupported):
        HomoLR().scorer(model, role="guest", component="homo_lr_0")


def test_each_class_logs_its_own_loss(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = start(tmp_path, harnesses, conf(max_iter=3, early_stop="diff", tol=1e-4), None)
    harness.run_ok("homo_lr_0")
    names = {
        record.key.metric_name
        for record in harness.metrics.query("202611220000000000001", "homo_lr_0", "guest", 9999)
    }
    assert {"local_loss_0", "local_loss_3"} <= names
    summary = json.loads(
        (harness.party_dir("guest", 9999) / "outputs" / "homo_lr_0" / "summary.json").read_text()
    )
    assert set(summary) == set(CLASSES) and all(s["one_vs_rest"] for s in summary.values())
