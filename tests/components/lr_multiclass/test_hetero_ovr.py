"""HeteroLR one-vs-rest on FATE's vehicle_scale (4 classes, features split between guest and host)
against scikit-learn's OneVsRestClassifier(LogisticRegression) on the joined rows.

Each class's model is the plain binary HeteroLR (Paillier, Taylor-approximated gradient) on the labels
masked to that class. HeteroLR's Taylor-approximated loss has another optimum than the logistic loss:
on vehicle even its converged one-vs-rest model is 0.011 below scikit-learn's training accuracy, so
the scores are checked against a plain numpy run of the same algorithm (same iterations, within
1e-3: Paillier's fixed-point encoding), and the accuracy against scikit-learn's within 0.15 at 15
iterations (the budget of a test).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from accord.components.hetero_lr.component import HeteroLR
from accord.computing import LocalEngine
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported

from ..harness import ComponentHarness
from . import vehicle

ACCURACY_TOLERANCE = 0.15
ITERATIONS = 15
RATE = 2.0
ALPHA = 0.001

DSL: dict[str, Any] = {
    "components": {
        "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
        "hetero_lr_0": {
            "module": "HeteroLR",
            "input": {"data": {"train_data": ["intersection_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "hetero_lr_1": {
            "module": "HeteroLR",
            "input": {"data": {"test_data": ["intersection_0.data"]}, "model": ["hetero_lr_0.model"]},
            "output": {"data": ["data"]},
        },
    }
}


def conf(iterations: int = ITERATIONS, **lr: Any) -> dict[str, Any]:
    params = {
        "penalty": "L2",
        "alpha": ALPHA,
        "optimizer": "sgd",
        "batch_size": -1,
        "learning_rate": RATE,
        "decay": 0,
        "encrypt_param": {"key_length": 512},
        "init_param": {"init_method": "zeros"},
        "max_iter": iterations,
        "early_stop": "weight_diff",
        "tol": 1e-9,
        **lr,
    }
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
        "component_parameters": {"common": {"hetero_lr_0": params}},
    }


def sklearn_accuracy() -> float:
    guest, host = vehicle.hetero()
    joined = np.hstack([guest.features(), host.features()])
    labels = guest.column("label")
    reference = OneVsRestClassifier(LogisticRegression(C=1 / (ALPHA * len(labels)), max_iter=5000))
    return float((reference.fit(joined, labels).predict(joined) == labels).mean())


def numpy_scores(iterations: int) -> np.ndarray:
    """The same one-vs-rest Taylor-gradient descent in plain numpy: each class's sigmoid scores."""
    guest, host = vehicle.hetero()
    joined = np.hstack([guest.features(), host.features()])
    labels = guest.column("label")
    n = len(labels)
    scores = []
    for positive in (0.0, 1.0, 2.0, 3.0):
        signed = 2.0 * (labels == positive) - 1.0
        weights, intercept = np.zeros(joined.shape[1]), 0.0
        for _ in range(iterations):
            fore = 0.25 * (joined @ weights + intercept) - 0.5 * signed
            weights = weights - RATE * (joined.T @ fore / n + ALPHA * weights)
            intercept -= RATE * float(fore.mean())
        scores.append(1.0 / (1.0 + np.exp(-(joined @ weights + intercept))))
    return np.column_stack(scores)


def test_one_vs_rest_matches_sklearn_and_predicts_fates_multiclass_rows(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    # Spark's per-pass cost: a short run there, the accuracy budget of 15 iterations locally.
    local = isinstance(engine, LocalEngine)
    iterations = ITERATIONS if local else 1
    harness = ComponentHarness(tmp_path, DSL, conf(iterations), engine=engine)
    harnesses.append(harness)
    guest, host = vehicle.hetero()
    vehicle.plant(harness.party_dir("guest", 9999), "intersection_0", guest)
    vehicle.plant(harness.party_dir("host", 10000), "intersection_0", host)
    harness.run_ok("hetero_lr_0")

    output = harness.output("guest", 9999, "hetero_lr_0")
    labels, result = output.column("label"), output.column("predict_result")
    assert set(labels) == {0.0, 1.0, 2.0, 3.0}, "the original labels, not the masked ones"
    details = [json.loads(str(d)) for d in output.column("predict_detail")]
    federated = np.array([[d[c] for c in ("0", "1", "2", "3")] for d in details])
    np.testing.assert_allclose(federated, numpy_scores(iterations), atol=1e-3)
    if local:
        assert float((labels == result).mean()) >= sklearn_accuracy() - ACCURACY_TOLERANCE
    detail = details[0]
    assert sorted(detail) == ["0", "1", "2", "3"]
    assert output.column("predict_score")[0] == pytest.approx(max(detail.values()))
    assert len(harness.output("host", 10000, "hetero_lr_0")) == 0

    guest_model = harness.model("guest", 9999, "hetero_lr_0")
    host_model = harness.model("host", 10000, "hetero_lr_0")
    for model, features in ((guest_model, "x"), (host_model, "h")):
        assert model["meta"]["need_one_vs_rest"] is True
        assert model["param"]["one_vs_rest_classes"] == ["0", "1", "2", "3"]
        completed = model["param"]["completed_models"]
        assert len(completed) == 4 and all(
            set(m["weight"]) == {f"{features}{i}" for i in range(9)} for m in completed
        )
    assert "intercept" not in host_model["param"]["completed_models"][0]

    harness.run_ok("hetero_lr_1")
    predicted = harness.output("guest", 9999, "hetero_lr_1")
    np.testing.assert_allclose(predicted.column("predict_score"), output.column("predict_score"), atol=1e-9)
    np.testing.assert_array_equal(predicted.column("predict_result"), result)

    with pytest.raises(ComponentFeatureUnsupported):
        HeteroLR().scorer(guest_model, role="guest", component="hetero_lr_0")
