"""Cross validation (cv_param) of HomoLR and HeteroLR against scikit-learn on the same folds.

The folds are scikit-learn's KFold over the sorted ids (checked exactly); each fold's validate AUC is
checked against scikit-learn's LogisticRegression fitted on that fold's training rows, within the
tolerances of the binary tests (HomoLR run long: 1e-3; HeteroLR: within 0.01 below, its
Taylor-approximated loss and few iterations being why it is not closer).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold

from accord.components.sdk.cross_validation import _each_fold, kfold
from accord.computing import LocalEngine
from accord.computing.table import Engine

from ..breast import breast_parties
from ..harness import JOB_ID, ComponentHarness
from ..lr_multiclass import vehicle
from ..test_homo_lr import homo_parties

SPLITS = 3
SEED = 103


@pytest.mark.parametrize(("count", "splits", "shuffle"), [(10, 3, True), (569, 5, True), (17, 4, False)])
def test_folds_are_sklearns_kfold(count: int, splits: int, shuffle: bool) -> None:
    expected = np.empty(count, dtype=np.int64)
    for fold, (_, test) in enumerate(
        KFold(splits, shuffle=shuffle, random_state=SEED if shuffle else None).split(np.arange(count))
    ):
        expected[test] = fold
    np.testing.assert_array_equal(kfold(count, splits, shuffle, SEED), expected)


def job(component: str, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    module = "HomoLR" if component.startswith("homo") else "HeteroLR"
    upstream = "data_transform_0" if module == "HomoLR" else "intersection_0"
    dsl = {
        "components": {
            upstream: {
                "module": "DataTransform" if module == "HomoLR" else "Intersection",
                "output": {"data": ["data"]},
            },
            component: {
                "module": module,
                "input": {"data": {"train_data": [f"{upstream}.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }
    conf = {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": 9999},
        "role": {"guest": [9999], "host": [10000], "arbiter": [10000]},
        "component_parameters": {"common": {component: params}},
    }
    return dsl, conf


def sorted_folds(ids: list[str]) -> dict[str, int]:
    ordered = sorted(ids)
    return dict(zip(ordered, kfold(len(ordered), SPLITS, True, SEED).tolist(), strict=True))


def fold_metrics(
    harness: ComponentHarness, component: str, role: str, party_id: int
) -> dict[str, dict[str, float]]:
    found = {}
    for record in harness.metrics.query(JOB_ID, component, role, party_id):
        if "_fold_" in record.key.metric_name:
            found[record.key.metric_name] = {str(k): float(v) for k, v in record.data}
    return found


def homo_fold_data(guest: Any, host: Any, fold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The union of the clients' training rows of ``fold`` and the guest's held-out rows."""
    train_x, train_y = [], []
    test: tuple[np.ndarray, np.ndarray] | None = None
    for data in (guest, host):
        by_sid = sorted_folds([str(s) for s in data.ids()])
        at = np.array([by_sid[str(s)] for s in data.ids()])
        train_x.append(data.features()[at != fold])
        train_y.append(data.column("label")[at != fold])
        if test is None:
            test = (data.features()[at == fold], data.column("label")[at == fold])
    assert test is not None
    return np.vstack(train_x), np.concatenate(train_y), test[0], test[1]


def test_homo_lr_cv_short_run_equals_gradient_descent_per_fold_on_every_engine(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    params = {
        "penalty": "L2",
        "alpha": 0.01,
        "optimizer": "sgd",
        "batch_size": -1,
        "learning_rate": 2.0,
        "decay": 0,
        "init_param": {"init_method": "zeros"},
        "max_iter": 2,
        "encrypt_param": {"method": None},
        "cv_param": {"n_splits": SPLITS, "shuffle": True, "random_seed": SEED, "need_cv": True},
    }
    dsl, conf = job("homo_lr_0", params)
    harness = ComponentHarness(tmp_path, dsl, conf, engine=engine)
    harnesses.append(harness)
    guest, host = homo_parties()
    vehicle.plant(harness.party_dir("guest", 9999), "data_transform_0", guest, row_group=100)
    vehicle.plant(harness.party_dir("host", 10000), "data_transform_0", host, row_group=100)
    harness.run_ok("homo_lr_0")
    metrics = fold_metrics(harness, "homo_lr_0", "guest", 9999)
    for fold in range(SPLITS):
        x, y, test_x, test_y = homo_fold_data(guest, host, fold)
        weights, intercept = vehicle.gradient_descent(x, y, iterations=2, rate=2.0, alpha=0.01)
        expected = roc_auc_score(test_y, test_x @ weights + intercept)
        assert metrics[f"validate_fold_{fold}"]["auc"] == pytest.approx(expected, abs=1e-6)


def test_homo_lr_cv_matches_sklearn_per_fold(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    """Run to convergence, on the local engine (200 rounds per fold are minutes on Spark)."""
    engine = None
    alpha = 0.01
    params = {
        "penalty": "L2",
        "alpha": alpha,
        "optimizer": "sgd",
        "batch_size": -1,
        "learning_rate": 2.0,
        "decay": 0,
        "init_param": {"init_method": "zeros"},
        "max_iter": 200,
        "early_stop": "weight_diff",
        "tol": 1e-9,
        "encrypt_param": {"method": None},
        "cv_param": {"n_splits": SPLITS, "shuffle": True, "random_seed": SEED, "need_cv": True},
    }
    dsl, conf = job("homo_lr_0", params)
    harness = ComponentHarness(tmp_path, dsl, conf, engine=engine)
    harnesses.append(harness)
    guest, host = homo_parties()
    vehicle.plant(harness.party_dir("guest", 9999), "data_transform_0", guest, row_group=100)
    vehicle.plant(harness.party_dir("host", 10000), "data_transform_0", host, row_group=100)
    harness.run_ok("homo_lr_0")

    folds = [sorted_folds([str(s) for s in data.ids()]) for data in (guest, host)]
    metrics = fold_metrics(harness, "homo_lr_0", "guest", 9999)
    for fold in range(SPLITS):
        train_x, train_y, test_x, test_y = [], [], [], []
        for data, by_sid in zip((guest, host), folds, strict=True):
            at = np.array([by_sid[str(s)] for s in data.ids()])
            train_x.append(data.features()[at != fold])
            train_y.append(data.column("label")[at != fold])
            if data is guest:
                test_x.append(data.features()[at == fold])
                test_y.append(data.column("label")[at == fold])
        x, y = np.vstack(train_x), np.concatenate(train_y)
        reference = LogisticRegression(C=1 / (alpha * len(y)), max_iter=20000, tol=1e-10).fit(x, y)
        expected = roc_auc_score(test_y[0], reference.decision_function(test_x[0]))
        assert metrics[f"validate_fold_{fold}"]["auc"] == pytest.approx(expected, abs=1e-3)
    assert "validate_fold_mean" in metrics and "validate_fold_std" in metrics
    aucs = [metrics[f"validate_fold_{k}"]["auc"] for k in range(SPLITS)]
    assert metrics["validate_fold_mean"]["auc"] == pytest.approx(np.mean(aucs), abs=1e-6)

    # FATE's fold history: every row once per fold, as <id>#fold<k>#<train|validate>.
    history = harness.output("guest", 9999, "homo_lr_0")
    assert len(history) == SPLITS * len(guest)
    sid = str(guest.ids()[0])
    mine = [i for i in history.column("sid") if str(i).startswith(f"{sid}#fold")]
    assert sorted(mine) == sorted(
        f"{sid}#fold{k}#{'validate' if folds[0][sid] == k else 'train'}" for k in range(SPLITS)
    )
    summary = json.loads(
        (harness.party_dir("guest", 9999) / "outputs" / "homo_lr_0" / "summary.json").read_text()
    )
    assert summary["fold_num"] == SPLITS and "fold_0" in summary
    assert harness.model("guest", 9999, "homo_lr_0")["meta"]["need_cv"] is True


def taylor_descent(
    features: np.ndarray, labels: np.ndarray, *, iterations: int, rate: float, alpha: float
) -> tuple[np.ndarray, float]:
    """HeteroLR's full-batch sgd in plain numpy: the Taylor-approximated logistic gradient."""
    signed = 2.0 * labels - 1.0
    weights, intercept = np.zeros(features.shape[1]), 0.0
    for _ in range(iterations):
        fore = 0.25 * (features @ weights + intercept) - 0.5 * signed
        weights = weights - rate * (features.T @ fore / len(labels) + alpha * weights)
        intercept -= rate * float(fore.mean())
    return weights, intercept


# Two plain gradient steps, checked exactly against taylor_descent (Spark's per-pass cost forbids more).
TWO_STEPS = {"optimizer": "sgd", "batch_size": -1, "learning_rate": 1.0, "decay": 0, "max_iter": 2}


def run_breast_cv(
    tmp_path: Path,
    harnesses: list[ComponentHarness],
    fit: dict[str, Any],
    *,
    engine: Engine | None = None,
    task_parallelism: int | None = None,
) -> tuple[ComponentHarness, np.ndarray, np.ndarray, np.ndarray, dict[str, dict[str, float]]]:
    """Hetero LR cross validation on breast: harness, joined features, labels, each row's fold, metrics."""
    params = {
        "penalty": "L2",
        "alpha": 0.01,
        **fit,
        "encrypt_param": {"key_length": 512},
        "init_param": {"init_method": "zeros"},
        "cv_param": {"n_splits": SPLITS, "shuffle": True, "random_seed": SEED, "need_cv": True},
    }
    dsl, conf = job("hetero_lr_0", params)
    if task_parallelism is not None:
        conf["job_parameters"] = {"common": {"task_parallelism": task_parallelism}}
    harness = ComponentHarness(tmp_path, dsl, conf, **({} if engine is None else {"engine": engine}))
    harnesses.append(harness)
    guest, host = breast_parties()
    vehicle.plant(harness.party_dir("guest", 9999), "intersection_0", guest)
    vehicle.plant(harness.party_dir("host", 10000), "intersection_0", host)
    harness.run_ok("hetero_lr_0")
    ids = [str(s) for s in guest.ids()]
    at = np.array([sorted_folds(ids)[s] for s in ids])
    joined, labels = np.hstack([guest.features(), host.features()]), guest.column("label")
    return harness, joined, labels, at, fold_metrics(harness, "hetero_lr_0", "guest", 9999)


def assert_folds_took_two_steps(
    joined: np.ndarray, labels: np.ndarray, at: np.ndarray, metrics: dict[str, dict[str, float]]
) -> None:
    for fold in range(SPLITS):
        weights, intercept = taylor_descent(
            joined[at != fold], labels[at != fold], iterations=2, rate=1.0, alpha=0.01
        )
        expected = roc_auc_score(labels[at == fold], joined[at == fold] @ weights + intercept)
        assert metrics[f"validate_fold_{fold}"]["auc"] == pytest.approx(expected, abs=1e-4)


def test_hetero_lr_cv_matches_sklearn_per_fold(
    tmp_path: Path, harnesses: list[ComponentHarness], engine: Engine
) -> None:
    # Locally the binary test's settings (30 iterations); on Spark two plain gradient steps.
    local = isinstance(engine, LocalEngine)
    fit = {"optimizer": "rmsprop", "batch_size": 320, "learning_rate": 0.15, "max_iter": 30}
    harness, joined, labels, at, metrics = run_breast_cv(
        tmp_path, harnesses, fit if local else TWO_STEPS, engine=engine
    )
    if local:
        for fold in range(SPLITS):
            reference = LogisticRegression(max_iter=1000).fit(joined[at != fold], labels[at != fold])
            expected = roc_auc_score(labels[at == fold], reference.decision_function(joined[at == fold]))
            assert metrics[f"validate_fold_{fold}"]["auc"] >= expected - 0.01
    else:
        assert_folds_took_two_steps(joined, labels, at, metrics)
    # The host's history: each of its rows per fold, with the fold number.
    host_history = harness.output("host", 10000, "hetero_lr_0")
    assert len(host_history) == SPLITS * len(labels) and host_history.header == ("fold_num",)
    loss_names = {r.key.metric_name for r in harness.metrics.query(JOB_ID, "hetero_lr_0", "arbiter", 10000)}
    assert {f"loss.{k}" for k in range(SPLITS)} <= loss_names


def test_folds_run_at_once_within_task_parallelism(tmp_path: Path, harnesses: list[ComponentHarness]) -> None:
    # task_parallelism 3: the three folds of every party run at once.
    _, joined, labels, at, metrics = run_breast_cv(tmp_path, harnesses, TWO_STEPS, task_parallelism=SPLITS)
    assert_folds_took_two_steps(joined, labels, at, metrics)


def test_folds_in_flight_at_once_meet_and_come_back_in_fold_order() -> None:
    # Three folds that each wait for the other two: they finish only if they run at the same time.
    meeting = threading.Barrier(SPLITS, timeout=10)

    def fold_work(fold: int) -> int:
        meeting.wait()
        time.sleep(0.01 * (SPLITS - fold))  # the last fold finishes first
        return fold

    assert _each_fold(SPLITS, SPLITS, fold_work) == list(range(SPLITS))
    assert _each_fold(SPLITS, 1, lambda fold: fold * 10) == [0, 10, 20]
