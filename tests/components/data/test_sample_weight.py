"""SampleWeight against plain numpy / scikit-learn: balanced weights are scikit-learn's
``compute_class_weight("balanced")``, a dict gives each label its weight (1 for others), and
``sample_weight_name`` moves the column into the weight (divided by its mean with normalize)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from accord.components.sdk import Dataset
from accord.computing.table import Engine

from ..breast import breast_parties
from ..harness import ComponentHarness

GUEST, HOST = 9999, 10000
DSL: dict[str, Any] = {
    "components": {
        "intersection_0": {"module": "Intersection", "output": {"data": ["data"]}},
        "sample_weight_0": {
            "module": "SampleWeight",
            "input": {"data": {"data": ["intersection_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}
PREDICT_DSL: dict[str, Any] = copy.deepcopy(DSL)
PREDICT_DSL["components"]["intersection_1"] = {"module": "Intersection", "output": {"data": ["data"]}}
PREDICT_DSL["components"]["sample_weight_1"] = {
    "module": "SampleWeight",
    "input": {"data": {"data": ["intersection_1.data"]}, "model": ["sample_weight_0.model"]},
    "output": {"data": ["data"], "model": ["model"]},
}


def conf(**guest: Any) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {
            "role": {
                "guest": {"0": {"sample_weight_0": guest}},
                "host": {"0": {"sample_weight_0": {"need_run": False}}},
            }
        },
    }


@pytest.fixture
def made() -> Iterator[list[ComponentHarness]]:
    harnesses: list[ComponentHarness] = []
    yield harnesses
    for harness in harnesses:
        harness.close()


def run(
    tmp_path: Path,
    made: list[ComponentHarness],
    engine: Engine | None = None,
    dsl: dict[str, Any] = DSL,
    **guest: Any,
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, dsl, conf(**guest), engine=engine)
    made.append(harness)
    guest_rows, host_rows = breast_parties()
    for name in ("intersection_0", "intersection_1"):
        harness.plant("guest", GUEST, name, guest_rows)
        harness.plant("host", HOST, name, host_rows)
    harness.run_ok("sample_weight_0")
    return harness


def test_balanced_weights_are_scikit_learn_s(
    tmp_path: Path, engine: Engine, made: list[ComponentHarness]
) -> None:
    harness = run(tmp_path, made, engine, class_weight="balanced")
    source, host_source = breast_parties()
    labels = source.labels()
    assert labels is not None
    classes = np.unique(labels)
    per_class = dict(zip(classes, compute_class_weight("balanced", classes=classes, y=labels), strict=True))
    got = harness.output("guest", GUEST, "sample_weight_0")
    np.testing.assert_allclose(got.weights(), [per_class[v] for v in labels], rtol=1e-12)  # type: ignore[arg-type]
    np.testing.assert_array_equal(got.features(), source.features())
    assert list(got.ids()) == list(source.ids())
    model = harness.model("guest", GUEST, "sample_weight_0")
    assert model["weight_mode"] == "class weight" and set(model["class_weight"]) == {"0", "1"}
    # The host (need_run false) passes its rows on unweighted.
    host = harness.output("host", HOST, "sample_weight_0")
    assert host.weights() is None and list(host.ids()) == list(host_source.ids())


def test_class_weight_dict_and_predict_with_the_model(tmp_path: Path, made: list[ComponentHarness]) -> None:
    harness = run(tmp_path, made, dsl=PREDICT_DSL, class_weight={"1": 2.5})
    labels = breast_parties()[0].labels()
    assert labels is not None
    expected = np.where(labels == 1, 2.5, 1.0)
    np.testing.assert_array_equal(harness.output("guest", GUEST, "sample_weight_0").weights(), expected)
    harness.run_ok("sample_weight_1")
    np.testing.assert_array_equal(harness.output("guest", GUEST, "sample_weight_1").weights(), expected)
    assert harness.output("host", HOST, "sample_weight_1").weights() is None


@pytest.mark.parametrize("normalize", [False, True])
def test_weight_column_leaves_the_features(
    tmp_path: Path, made: list[ComponentHarness], normalize: bool
) -> None:
    harness = run(tmp_path, made, sample_weight_name="x3", normalize=normalize)
    source: Dataset = breast_parties()[0]
    column = source.features()[:, source.header.index("x3")]
    got = harness.output("guest", GUEST, "sample_weight_0")
    np.testing.assert_allclose(got.weights(), column / column.mean() if normalize else column, rtol=1e-12)  # type: ignore[arg-type]
    assert got.header == tuple(name for name in source.header if name != "x3")
    np.testing.assert_array_equal(
        got.features(), np.delete(source.features(), source.header.index("x3"), axis=1)
    )
    np.testing.assert_array_equal(got.labels(), source.labels())


def test_a_missing_weight_column_is_refused(tmp_path: Path, made: list[ComponentHarness]) -> None:
    with pytest.raises(AssertionError, match="no feature column 'nope'"):
        run(tmp_path, made, sample_weight_name="nope")
