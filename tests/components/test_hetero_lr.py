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
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from accord.components.hetero_lr import tables
from accord.components.hetero_lr.params import HeteroLRParam
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError, DataMismatchError

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


@pytest.fixture
def partitioned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Train on the partitions as planted, small as the tables are (no gathering into one)."""
    monkeypatch.setattr(tables, "SMALL_TABLE_ROWS", 0)


def plant(harness: ComponentHarness, role: str, party_id: int, data: Dataset, row_group: int | None) -> None:
    """Intersection's output as ``row_group``-row partitions (None: one), the same on every party."""
    path = layout.data_path(harness.party_dir(role, party_id), "intersection_0", "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
    pq.write_table(table, path, row_group_size=row_group)


def train(
    tmp_path: Path,
    made: list[ComponentHarness],
    job_conf: dict[str, Any],
    engine: Engine | None = None,
    row_group: int | None = None,
    dsl: dict[str, Any] | None = None,
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, dsl or DSL, job_conf, engine=engine)
    made.append(harness)
    guest, host = breast_parties()
    plant(harness, "guest", 9999, guest, row_group)
    for host_id in job_conf["role"]["host"]:
        plant(harness, "host", host_id, host, row_group)
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


@pytest.mark.usefixtures("partitioned")
def test_breast_auc_is_within_tolerance_of_sklearn(
    tmp_path: Path, harnesses: list[ComponentHarness], local_engine: Engine
) -> None:
    # 569 rows in partitions of 300: the second batch of 320 rows spans both. Training to convergence
    # costs minutes on Spark: there, the fitted model's predictions are checked exactly (below) and
    # tests/cluster/test_spark_standalone.py trains this job on a Spark cluster against this tolerance.
    harness = train(tmp_path, harnesses, conf(), engine=local_engine, row_group=300)
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
    harness = ComponentHarness(tmp_path, DSL, conf(encrypt_param={"method": None, "key_length": 1024}))
    harnesses.append(harness)
    guest, host = breast_parties(limit=50)
    harness.plant("guest", 9999, "intersection_0", guest)
    harness.plant("host", 10000, "intersection_0", host)
    errors = harness.run("hetero_lr_0")
    assert all(isinstance(error, ComponentParameterError) for error in errors.values())
    assert "encrypt_param.method" in str(next(iter(errors.values())))
    # A callback Accord does not run is refused by name, never ignored.
    registry = harness.registry
    with pytest.raises(ComponentFeatureUnsupported, match="LRScheduler"):
        registry.check_parameters(
            "HeteroLR", {"callback_param": {"callbacks": ["LRScheduler"]}}, component="hetero_lr_0"
        )
    with pytest.raises(ComponentFeatureUnsupported, match="LRScheduler"):
        registry.check_parameters(
            "HomoLR", {"callback_param": {"callbacks": ["LRScheduler"]}}, component="homo_lr_0"
        )
    for callbacks in (["EarlyStopping"], ["ModelCheckpoint", "EarlyStopping"]):
        registry.check_parameters("HeteroLR", {"callback_param": {"callbacks": callbacks}}, component="c")
        registry.check_parameters("HomoLR", {"callback_param": {"callbacks": callbacks}}, component="c")


def test_misaligned_rows_are_refused(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    harness = ComponentHarness(tmp_path, DSL, conf(encrypt_param={"key_length": 512}, max_iter=2))
    harnesses.append(harness)
    harness.transfer_timeout_s = 5
    guest, host = breast_parties(limit=60)
    harness.plant("guest", 9999, "intersection_0", guest)
    harness.plant("host", 10000, "intersection_0", host.take(np.arange(59, -1, -1)))
    errors = harness.run("hetero_lr_0")
    assert isinstance(errors[next(p for p in errors if p.role == "host")], DataMismatchError)
    # The guest and the arbiter learn it from the host rather than waiting for data that never comes.
    assert all(isinstance(error, DataMismatchError) for error in errors.values())


PREDICT_DSL: dict[str, Any] = copy.deepcopy(DSL)
PREDICT_DSL["components"]["hetero_lr_1"] = {
    "module": "HeteroLR",
    "input": {"data": {"test_data": ["intersection_0.data"]}, "model": ["hetero_lr_0.model"]},
    "output": {"data": ["data"]},
}


@pytest.mark.usefixtures("partitioned")
def test_predict_with_the_fitted_model_matches_a_plain_computation(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    job = conf(max_iter=5, encrypt_param={"key_length": 512})
    harness = train(tmp_path, harnesses, job, engine=engine, row_group=150, dsl=PREDICT_DSL)
    guest, host = breast_parties()
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


def test_sample_weights_weigh_the_guests_half_of_the_gradient_as_fate(
    tmp_path: Path, harnesses: list[ComponentHarness]
) -> None:
    """Rows weighted by a SampleWeight upstream: two full-batch SGD steps against a plain numpy
    computation of FATE 1.11's rule, d = w·(0.25·wx_g - 0.5·y) + 0.25·wx_h (the hosts' part unweighted)."""
    guest, host = breast_parties()
    weights = np.random.default_rng(5).uniform(0.2, 3.0, size=len(guest))
    weighted = Dataset.instances(
        list(guest.ids()), guest.features(), header=guest.header, labels=guest.labels(), weights=weights
    )
    lr = {"optimizer": "sgd", "batch_size": -1, "max_iter": 2, "alpha": 0.0, "learning_rate": 0.1}
    job = conf(**lr, early_stop="weight_diff", tol=0.0)
    harness = ComponentHarness(tmp_path, DSL, job)
    harnesses.append(harness)
    plant(harness, "guest", 9999, weighted, None)
    plant(harness, "host", 10000, host, None)
    harness.run_ok("hetero_lr_0")

    params = HeteroLRParam.model_validate(job["component_parameters"]["common"]["hetero_lr_0"])
    xg, xh, signed = guest.features(), host.features(), 2.0 * np.asarray(guest.labels()) - 1.0
    wg, wh, bias = np.zeros(xg.shape[1]), np.zeros(xh.shape[1]), 0.0
    for iteration in range(2):
        fore = weights * (0.25 * (xg @ wg + bias) - 0.5 * signed) + 0.25 * (xh @ wh)
        scale = 1 + params.decay * iteration
        rate = params.learning_rate / (np.sqrt(scale) if params.decay_sqrt else scale)
        wg, wh, bias = (
            wg - rate * xg.T @ fore / len(fore),
            wh - rate * xh.T @ fore / len(fore),
            bias - rate * fore.sum() / len(fore),
        )
    guest_model = harness.model("guest", 9999, "hetero_lr_0")["param"]
    host_model = harness.model("host", 10000, "hetero_lr_0")["param"]
    np.testing.assert_allclose([guest_model["weight"][name] for name in guest.header], wg, atol=1e-6)
    np.testing.assert_allclose([host_model["weight"][name] for name in host.header], wh, atol=1e-6)
    assert guest_model["intercept"] == pytest.approx(bias, abs=1e-6)
