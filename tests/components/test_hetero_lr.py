"""HeteroLR against scikit-learn's LogisticRegression on the same, joined breast data.

Tolerance: the federated model's AUC on its training rows is within 0.01 of scikit-learn's, as the
issue asks; the Taylor-approximated loss and few iterations are why it is not closer.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from accord.errors import ComponentParameterError, DataMismatchError

from .breast import breast_parties
from .harness import JOB_ID, ComponentHarness

AUC_TOLERANCE = 0.01

DSL: dict[str, Any] = {
    "components": {
        "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
        "hetero_lr_0": {
            "module": "HeteroLR",
            "input": {"data": {"train_data": ["intersection_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}


def conf(hosts: list[int] | None = None, **lr: Any) -> dict[str, Any]:
    params = {
        "penalty": "L2",
        "tol": 0.0001,
        "alpha": 0.01,
        "optimizer": "rmsprop",
        "batch_size": 320,
        "learning_rate": 0.15,
        "encrypt_param": {"key_length": 1024},
        "init_param": {"init_method": "zeros"},
        "max_iter": 30,
        "early_stop": "diff",
    }
    params.update(lr)
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": hosts or [10000], "arbiter": [10000]},
        "component_parameters": {"common": {"hetero_lr_0": params}},
    }


@pytest.fixture
def harnesses(tmp_path: Path) -> Iterator[list[ComponentHarness]]:
    made: list[ComponentHarness] = []
    yield made
    for harness in made:
        harness.close()


def train(tmp_path: Path, made: list[ComponentHarness], job_conf: dict[str, Any]) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, DSL, job_conf)
    made.append(harness)
    guest, host = breast_parties()
    harness.plant("guest", 9999, "intersection_0", guest)
    for host_id in job_conf["role"]["host"]:
        harness.plant("host", host_id, "intersection_0", host)
    harness.run_ok("hetero_lr_0")
    return harness


def sklearn_auc() -> float:
    guest, host = breast_parties()
    joined = np.hstack([guest.features(), host.features()])
    labels = guest.labels()
    assert labels is not None
    reference = LogisticRegression(max_iter=1000).fit(joined, labels)
    return float(roc_auc_score(labels, reference.predict_proba(joined)[:, 1]))


def federated_auc(harness: ComponentHarness) -> float:
    output = harness.output("guest", 9999, "hetero_lr_0")
    return float(roc_auc_score(output.column("label"), output.column("predict_score")))


def test_breast_auc_is_within_tolerance_of_sklearn(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = train(tmp_path, harnesses, conf())
    assert federated_auc(harness) >= sklearn_auc() - AUC_TOLERANCE
    guest_model = harness.model("guest", 9999, "hetero_lr_0")["param"]
    host_model = harness.model("host", 10000, "hetero_lr_0")["param"]
    assert len(guest_model["weight"]) == 10 and len(host_model["weight"]) == 20
    # Each party's model holds only its own weights.
    assert set(guest_model["weight"]) == {f"x{i}" for i in range(10)}
    assert "intercept" not in host_model
    records = harness.metrics.query(JOB_ID, "hetero_lr_0", "arbiter", 10000)
    points = [point for record in records for point in record.data]
    assert len(points) >= 2 and points[-1][1] < points[0][1], "the loss goes down"


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adagrad", "nesterov_momentum_sgd"])
def test_every_optimizer_learns(tmp_path: Path, harnesses: list[ComponentHarness], optimizer: str) -> None:
    rate = {"sgd": 0.3, "adam": 0.05, "adagrad": 0.3, "nesterov_momentum_sgd": 0.1}[optimizer]
    harness = train(
        tmp_path,
        harnesses,
        conf(
            optimizer=optimizer,
            learning_rate=rate,
            max_iter=8,
            batch_size=-1,
            encrypt_param={"key_length": 512},
        ),
    )
    assert federated_auc(harness) >= sklearn_auc() - 0.02


def test_two_hosts_with_weight_diff(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    job = conf(
        hosts=[10000, 9999], optimizer="nesterov_momentum_sgd", batch_size=-1, early_stop="weight_diff"
    )
    job["component_parameters"]["common"]["hetero_lr_0"]["encrypt_param"] = {"key_length": 512}
    job["component_parameters"]["common"]["hetero_lr_0"]["max_iter"] = 10
    harness = train(tmp_path, harnesses, job)
    assert federated_auc(harness) >= sklearn_auc() - AUC_TOLERANCE
    assert len(harness.model("host", 9999, "hetero_lr_0")["param"]["weight"]) == 20


def test_l1_penalty_and_plain_sgd_without_intercept(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    harness = train(
        tmp_path,
        harnesses,
        conf(
            penalty="L1",
            optimizer="sgd",
            learning_rate=0.3,
            max_iter=5,
            batch_size=-1,
            init_param={"init_method": "zeros", "fit_intercept": False},
            encrypt_param={"key_length": 512},
        ),
    )
    assert harness.model("guest", 9999, "hetero_lr_0")["param"]["intercept"] == 0.0
    assert federated_auc(harness) > 0.95


def test_unsupported_options_are_refused_by_name(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = ComponentHarness(tmp_path, DSL, conf(cv_param={"need_cv": True}))
    harnesses.append(harness)
    guest, host = breast_parties(limit=50)
    harness.plant("guest", 9999, "intersection_0", guest)
    harness.plant("host", 10000, "intersection_0", host)
    errors = harness.run("hetero_lr_0")
    assert all(isinstance(error, ComponentParameterError) for error in errors.values())
    assert "cv_param.need_cv" in str(next(iter(errors.values())))


def test_misaligned_rows_are_refused(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = ComponentHarness(tmp_path, DSL, conf(encrypt_param={"key_length": 512}, max_iter=2))
    harnesses.append(harness)
    harness.transfer_timeout_s = 5
    guest, host = breast_parties(limit=60)
    harness.plant("guest", 9999, "intersection_0", guest)
    harness.plant("host", 10000, "intersection_0", host.take(np.arange(59, -1, -1)))
    errors = harness.run("hetero_lr_0")
    assert isinstance(errors[next(p for p in errors if p.role == "host")], DataMismatchError)


PREDICT_DSL: dict[str, Any] = copy.deepcopy(DSL)
PREDICT_DSL["components"]["hetero_lr_1"] = {
    "module": "HeteroLR",
    "input": {"data": {"test_data": ["intersection_0.data"]}, "model": ["hetero_lr_0.model"]},
    "output": {"data": ["data"]},
}


def test_predict_with_the_fitted_model_matches_a_plain_computation(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    job = conf(max_iter=5, encrypt_param={"key_length": 512})
    harness = ComponentHarness(tmp_path, PREDICT_DSL, job)
    harnesses.append(harness)
    guest, host = breast_parties()
    harness.plant("guest", 9999, "intersection_0", guest)
    harness.plant("host", 10000, "intersection_0", host)
    harness.run_ok("hetero_lr_0")
    harness.run_ok("hetero_lr_1")
    guest_model = harness.model("guest", 9999, "hetero_lr_0")["param"]
    host_model = harness.model("host", 10000, "hetero_lr_0")["param"]
    wx = (
        guest.features() @ np.array([guest_model["weight"][name] for name in guest.header])
        + host.features() @ np.array([host_model["weight"][name] for name in host.header])
        + guest_model["intercept"]
    )
    expected = 1 / (1 + np.exp(-wx))
    output = harness.output("guest", 9999, "hetero_lr_1")
    np.testing.assert_allclose(output.column("predict_score"), expected, rtol=1e-12)
    assert set(output.column("type")) == {"test"}
