"""LabelTransform against pandas on the guest's labels, and predictions mapped back after a model.

fit encodes the labels as pandas' ``map`` does with the same encoder (given, completed with the labels
it does not name, or the sorted labels numbered 0, 1, ...); with the model, a trained model's
predictions get their original labels back in label, predict_result and predict_detail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from accord.components.data.label_transform import LabelTransform
from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError, DataFormatError
from tests.components.feature.support import GUEST, HOST, conf, harness, parties, plant

NAME = "label_transform_0"


def job() -> dict[str, Any]:
    return {
        "components": {
            "intersection_0": {"module": "DataTransform", "output": {"data": ["data"]}},
            NAME: {
                "module": "LabelTransform",
                "input": {"data": {"data": ["intersection_0.data"]}},
                "output": {"data": ["data"], "model": ["model"]},
            },
            "hetero_lr_0": {"module": "DataTransform", "output": {"data": ["data"]}},
            "label_transform_1": {
                "module": "LabelTransform",
                "input": {"data": {"data": ["hetero_lr_0.data"]}, "model": [f"{NAME}.model"]},
                "output": {"data": ["data"], "model": ["model"]},
            },
        }
    }


def relabelled(data: Dataset, labels: np.ndarray, **extra: Any) -> Dataset:
    return Dataset.instances(
        data.ids(), data.features(), header=data.header, labels=labels, label_name="y", extra=extra or None
    )


def run(tmp_path: Path, engine: Engine | None, params: dict[str, Any], guest: Dataset) -> Any:
    running = harness(tmp_path / "home", job(), conf(NAME, params), engine)
    plant(running, "guest", "intersection_0", guest)
    plant(running, "host", "intersection_0", parties(gaps=False)[1])
    running.run_ok(NAME)
    return running


def predictions(labels: np.ndarray, classes: list[float]) -> Dataset:
    rng = np.random.default_rng(5)
    predicted = rng.choice(classes, size=len(labels))
    detail = [{str(int(c)): float(rng.random()) for c in classes} for _ in labels]
    return Dataset.predictions(
        [str(i) for i in range(len(labels))],
        labels=labels,
        predict_result=predicted,
        predict_score=rng.random(len(labels)),
        predict_detail=detail,
        data_type="train",
    )


@pytest.mark.parametrize(
    ("params", "classes"),
    [
        ({"label_encoder": {"0": 1, "1": 0}, "label_list": [0, 1]}, [0.0, 1.0]),
        ({"label_encoder": {"0": 1, "1": 0}}, [0.0, 1.0, 2.0, 3.0]),
        ({}, [2.0, 5.0, 9.0]),
    ],
)
def test_labels_are_encoded_as_pandas_maps_them_and_predictions_come_back(
    tmp_path: Path, engine: Engine, params: dict[str, Any], classes: list[float]
) -> None:
    guest = parties(gaps=False)[0]
    labels = np.random.default_rng(1).choice(classes, size=len(guest))
    given = params.get("label_encoder")
    mapping = (
        {float(k): float(v) for k, v in given.items()}
        if given
        else {c: float(i) for i, c in enumerate(sorted(classes))}
    )
    running = run(tmp_path, engine, params, relabelled(guest, labels))
    try:
        out = running.output("guest", GUEST, NAME)
        want = pd.Series(labels).map(lambda v: mapping.get(v, v))
        np.testing.assert_array_equal(out.labels(), want.to_numpy())
        np.testing.assert_array_equal(out.features(), guest.features())
        # The host's rows have no labels: they pass through.
        host = running.output("host", HOST, NAME)
        assert host.labels() is None and host.ids().tolist() == parties(gaps=False)[1].ids().tolist()
        encoded = want.to_numpy()
        made = predictions(encoded, sorted(set(mapping.get(c, c) for c in classes)))
        plant(running, "guest", "hetero_lr_0", made)
        plant(running, "host", "hetero_lr_0", predictions(np.zeros(0), [0.0]))
        running.run_ok("label_transform_1")
        back = running.output("guest", GUEST, "label_transform_1")
        inverse = {v: k for k, v in {c: mapping.get(c, c) for c in classes}.items()}
        np.testing.assert_array_equal(back.labels(), labels)
        np.testing.assert_array_equal(
            back.column("predict_result"), pd.Series(made.column("predict_result")).map(inverse).to_numpy()
        )
        np.testing.assert_array_equal(back.column("predict_score"), made.column("predict_score"))
        first_in, first_out = (
            json.loads(made.column("predict_detail")[0]),
            json.loads(back.column("predict_detail")[0]),
        )
        assert first_out == {str(int(inverse[float(k)])): v for k, v in first_in.items()}
    finally:
        running.close()


def test_text_labels_are_named_by_their_text(tmp_path: Path) -> None:
    guest = parties(gaps=False)[0]
    # DataTransform numbered the text labels in sorted order: "no" 0, "yes" 1.
    data = relabelled(guest, guest.labels(), label_mapping={"no": 0, "yes": 1})  # type: ignore[arg-type]
    running = run(tmp_path, None, {"label_encoder": {"yes": 5, "no": 7}}, data)
    try:
        out = running.output("guest", GUEST, NAME)
        np.testing.assert_array_equal(out.labels(), np.where(guest.labels() == 1, 5.0, 7.0))
        assert out.extra["label_mapping"] == {"no": 7, "yes": 5}
        assert running.model("guest", GUEST, NAME)["label_encoder"] == {"1": 5, "0": 7}
    finally:
        running.close()


def test_a_label_the_model_does_not_know_fails_the_predict_task(tmp_path: Path) -> None:
    guest = parties(gaps=False)[0]
    running = run(tmp_path, None, {"label_encoder": {"0": 1, "1": 0}}, guest)
    try:
        plant(running, "guest", "hetero_lr_0", predictions(np.full(5, 3.0), [0.0, 1.0]))
        plant(running, "host", "hetero_lr_0", predictions(np.zeros(0), [0.0]))
        errors = running.run("label_transform_1")
        assert isinstance(errors[next(p for p in errors if p.role == "guest")], DataFormatError)
    finally:
        running.close()


@pytest.mark.parametrize(
    ("params", "error", "words"),
    [
        ({"label_encoder": {"0": 1, "1": 0}, "label_list": [0]}, ComponentParameterError, "label_list"),
        ({"label_encoder": {"0": "yes"}}, ComponentFeatureUnsupported, "not numbers"),
        ({"label_encoder": [1, 0]}, ComponentParameterError, "label_encoder"),
        ({"need_run": 1}, ComponentParameterError, "need_run"),
    ],
)
def test_bad_parameters_are_refused_before_running(
    params: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        LabelTransform().check_parameters(params, component=NAME, module="LabelTransform")
