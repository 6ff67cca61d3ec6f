"""LocalBaseline against scikit-learn itself, which FATE's LocalBaseline runs: coefficients and
probabilities equal to 1e-9 (binary on breast_homo_guest, one-vs-rest and multinomial on the four
vehicle classes, sample weights), the prediction rows FATE writes, predict from the JSON model on
both engines, need_run false passing rows through, and options refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from accord.components.linear.local_baseline import LocalBaseline
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine
from accord.errors import ComponentParameterError

from ..breast import DATA
from ..harness import ComponentHarness

GUEST, HOST = 9999, 10000
TOL = 1e-9


def dsl(predict: bool = False) -> dict[str, Any]:
    components: dict[str, Any] = {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        "local_baseline_0": {
            "module": "LocalBaseline",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if predict:
        components["data_transform_1"] = {"module": "DataTransform", "output": {"data": ["data"]}}
        components["local_baseline_1"] = {
            "module": "LocalBaseline",
            "input": {"data": {"test_data": ["data_transform_1.data"]}, "model": ["local_baseline_0.model"]},
            "output": {"data": ["data"], "model": ["model"]},
        }
    return {"components": components}


def conf(**params: Any) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST], "arbiter": [HOST]},
        "component_parameters": {
            "common": {"local_baseline_0": params},
            "role": {"host": {"0": {"local_baseline_0": {"need_run": False}}}},
        },
    }


def rows(name: str, weights: bool = False) -> Dataset:
    table = np.loadtxt(DATA / name, delimiter=",", skiprows=1, dtype=str)
    header = (DATA / name).read_text().splitlines()[0].split(",")[2:]
    labels = table[:, 1].astype(float)
    w = None
    if weights:
        # SampleWeight's class_weight "balanced".
        classes, counts = np.unique(labels, return_counts=True)
        w = (len(labels) / (len(classes) * counts))[np.searchsorted(classes, labels)]
    return Dataset.instances(
        table[:, 0], table[:, 2:].astype(float), header=header, labels=labels, weights=w, label_name="y"
    )


def plant(harness: ComponentHarness, component: str, data: Dataset) -> None:
    """Written in row groups of 50, so the engines read several partitions."""
    for role, party in (("guest", GUEST), ("host", HOST)):
        path = layout.data_path(harness.party_dir(role, party), component, "data")
        path.parent.mkdir(parents=True, exist_ok=True)
        table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
        pq.write_table(table, path, row_group_size=50)


def train(
    tmp_path: Path, engine: Engine, data: Dataset, predict: Dataset | None = None, **params: Any
) -> Any:
    harness = ComponentHarness(tmp_path / "home", dsl(predict is not None), conf(**params), engine=engine)
    plant(harness, "data_transform_0", data)
    harness.run_ok("local_baseline_0")
    if predict is not None:
        plant(harness, "data_transform_1", predict)
        harness.run_ok("local_baseline_1")
    return harness


def check_against(reference: Any, got: Dataset, model: dict[str, Any], data: Dataset) -> None:
    coef = np.asarray(model["param"]["coef"])
    np.testing.assert_allclose(coef, reference.coef_, rtol=0, atol=TOL)
    np.testing.assert_allclose(model["param"]["intercepts"], np.ravel(reference.intercept_), rtol=0, atol=TOL)
    proba = reference.predict_proba(data.features())
    detail = np.array(
        [[json.loads(d)[k] for k in sorted(json.loads(d))] for d in got.column("predict_detail")]
    )
    np.testing.assert_allclose(detail, proba, rtol=0, atol=TOL)
    # FATE's score: the positive class's probability (binary), else the predicted class's.
    score = proba[:, 1] if proba.shape[1] == 2 else proba.max(axis=1)
    np.testing.assert_allclose(got.column("predict_score"), score, rtol=0, atol=TOL)
    assert got.ids().tolist() == data.ids().tolist()
    np.testing.assert_array_equal(got.labels(), data.labels())


def test_binary_equals_scikit_learn(tmp_path: Path, engine: Engine) -> None:
    data = rows("breast_homo_guest.csv")
    opts = {"penalty": "l2", "tol": 0.0001, "C": 1.0, "fit_intercept": True, "solver": "saga", "max_iter": 2}
    # saga draws its row order: seeded here, so the two fits see the same.
    opts["random_state"] = 0
    harness = train(tmp_path, engine, data, model_opts=opts, predict_param={"threshold": 0.3})
    try:
        got = harness.output("guest", GUEST, "local_baseline_0")
        model = harness.model("guest", GUEST, "local_baseline_0")
        assert model["meta"]["kind"] == "binary" and set(model["param"]["weight"]) == set(data.header)
        reference = LogisticRegression(C=1.0, tol=1e-4, solver="saga", max_iter=2, random_state=0).fit(
            data.features(), data.labels()
        )
        proba = reference.predict_proba(data.features())[:, 1]
        check_against(reference, got, model, data)
        np.testing.assert_allclose(got.column("predict_score"), proba, rtol=0, atol=TOL)
        np.testing.assert_array_equal(got.column("predict_result"), (proba > 0.3).astype(float))
        assert set(got.column("type")) == {"train"}
        # The host's need_run false: its rows pass through unchanged.
        passed = harness.output("host", HOST, "local_baseline_0")
        assert passed.kind == "instances" and passed.ids().tolist() == data.ids().tolist()
    finally:
        harness.close()


def test_one_vs_rest_with_weights_and_predict(tmp_path: Path, engine: Engine) -> None:
    data = rows("vehicle_scale_hetero_guest.csv", weights=True)
    train_rows, test_rows = data.take(np.arange(600)), data.take(np.arange(600, len(data)))
    opts = {"penalty": "l2", "tol": 1e-4, "C": 1.0, "solver": "lbfgs", "max_iter": 5, "multi_class": "ovr"}
    harness = train(tmp_path, engine, train_rows, predict=test_rows, model_opts=opts)
    try:
        model = harness.model("guest", GUEST, "local_baseline_0")
        assert model["meta"]["kind"] == "ovr" and model["param"]["classes"] == [0, 1, 2, 3]
        x, y, w = train_rows.features(), train_rows.labels(), train_rows.weights()
        # One-vs-rest as scikit-learn 1.0's LogisticRegression(multi_class="ovr") fitted it.
        parts = [
            LogisticRegression(tol=1e-4, max_iter=5).fit(x, (y == c).astype(int), sample_weight=w)
            for c in range(4)
        ]
        np.testing.assert_allclose(
            model["param"]["coef"], np.vstack([p.coef_ for p in parts]), rtol=0, atol=TOL
        )
        scores = np.column_stack([p.predict_proba(test_rows.features())[:, 1] for p in parts])
        proba = scores / scores.sum(axis=1, keepdims=True)
        got = harness.output("guest", GUEST, "local_baseline_1")
        detail = np.array([[json.loads(d)[str(c)] for c in range(4)] for d in got.column("predict_detail")])
        np.testing.assert_allclose(detail, proba, rtol=0, atol=TOL)
        np.testing.assert_array_equal(got.column("predict_result"), proba.argmax(axis=1).astype(float))
        assert set(got.column("type")) == {"test"} and got.ids().tolist() == test_rows.ids().tolist()
        # The host trained nothing (need_run false), so it scores nothing.
        assert len(harness.output("host", HOST, "local_baseline_1")) == 0
    finally:
        harness.close()


def test_multinomial_equals_scikit_learn(tmp_path: Path, engine: Engine) -> None:
    data = rows("vehicle_scale_hetero_guest.csv")
    harness = train(tmp_path, engine, data, model_opts={"C": 0.5, "max_iter": 50, "class_weight": "balanced"})
    try:
        model = harness.model("guest", GUEST, "local_baseline_0")
        assert model["meta"]["kind"] == "multinomial"
        reference = LogisticRegression(C=0.5, max_iter=50, class_weight="balanced").fit(
            data.features(), data.labels()
        )
        check_against(reference, harness.output("guest", GUEST, "local_baseline_0"), model, data)
    finally:
        harness.close()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"model_name": "SVC"}, "model_name"),
        ({"model_opts": {"max_iters": 3}}, "max_iters"),
        ({"model_opts": {"penalty": "l3"}}, "penalty"),
        ({"model_opts": {"solver": "sgd"}}, "solver"),
        ({"predict_param": {"threshold": 2}}, "threshold"),
    ],
)
def test_bad_options_are_refused_by_name(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ComponentParameterError, match=field):
        LocalBaseline().check_parameters(params, component="local_baseline_0", module="LocalBaseline")
