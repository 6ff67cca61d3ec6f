"""FeatureScale against scikit-learn's MinMaxScaler and StandardScaler on FATE's breast data.

Each party scales its own columns; results equal scikit-learn's to 1e-9, and a saved model scales other
rows with the training numbers (no refit).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from accord.components.sdk import Dataset
from accord.errors import ComponentParameterError

from .breast import DATA
from .harness import ComponentHarness

GUEST, HOST = 9999, 10000
DSL: dict[str, Any] = {
    "components": {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        "scale_0": {
            "module": "FeatureScale",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}
PREDICT_DSL: dict[str, Any] = copy.deepcopy(DSL)
PREDICT_DSL["components"]["data_transform_1"] = {"module": "DataTransform", "output": {"data": ["data"]}}
PREDICT_DSL["components"]["scale_1"] = {
    "module": "FeatureScale",
    "input": {"data": {"data": ["data_transform_1.data"]}, "model": ["scale_0.model"]},
    "output": {"data": ["data"]},
}


def breast(name: str, rows: slice = slice(None)) -> Dataset:
    table = np.loadtxt(DATA / name, delimiter=",", skiprows=1)[rows]
    labelled = "guest" in name
    features = table[:, 2:] if labelled else table[:, 1:]
    header = [f"x{i}" for i in range(features.shape[1])]
    ids = [str(int(sid)) for sid in table[:, 0]]
    labels = table[:, 1] if labelled else None
    return Dataset.instances(
        ids, features, header=header, labels=labels, label_name="y" if labelled else None
    )


def conf(guest: dict[str, Any] | None = None, **scale: Any) -> dict[str, Any]:
    """``scale`` for both parties, updated by ``guest`` on the guest (10 columns; the host has 20)."""
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {
            "common": {"scale_0": scale},
            "role": {"guest": {"0": {"scale_0": guest or {}}}},
        },
    }


@pytest.fixture
def made() -> Iterator[list[ComponentHarness]]:
    harnesses: list[ComponentHarness] = []
    yield harnesses
    for harness in harnesses:
        harness.close()


def run(
    tmp_path: Path, made: list[ComponentHarness], job: dict[str, Any], dsl: dict[str, Any] = DSL
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, dsl, job)
    made.append(harness)
    harness.plant("guest", GUEST, "data_transform_0", breast("breast_hetero_guest.csv"))
    harness.plant("host", HOST, "data_transform_0", breast("breast_hetero_host.csv"))
    harness.run_ok("scale_0")
    return harness


def test_min_max_equals_scikit_learn_on_each_party(tmp_path: Path, made: list[ComponentHarness]) -> None:
    harness = run(tmp_path, made, conf(method="min_max_scale", mode="normal"))
    for role, party_id, name in (
        ("guest", GUEST, "breast_hetero_guest.csv"),
        ("host", HOST, "breast_hetero_host.csv"),
    ):
        source = breast(name)
        out = harness.output(role, party_id, "scale_0")
        np.testing.assert_allclose(out.features(), MinMaxScaler().fit_transform(source.features()), atol=1e-9)
        assert list(out.ids()) == list(source.ids()) and out.header == source.header
    guest_out = harness.output("guest", GUEST, "scale_0")
    labels = guest_out.labels()
    assert labels is not None and guest_out.label_name == "y"
    np.testing.assert_array_equal(labels, breast("breast_hetero_guest.csv").labels())


def test_standard_scale_by_default_equals_scikit_learn(tmp_path: Path, made: list[ComponentHarness]) -> None:
    harness = run(tmp_path, made, conf())
    source = breast("breast_hetero_guest.csv").features()
    out = harness.output("guest", GUEST, "scale_0").features()
    np.testing.assert_allclose(out, StandardScaler().fit_transform(source), atol=1e-9)
    no_mean = run(tmp_path / "b", made, conf(with_mean=False))
    expected = StandardScaler(with_mean=False).fit_transform(source)
    np.testing.assert_allclose(no_mean.output("guest", GUEST, "scale_0").features(), expected, atol=1e-9)
    no_std = run(tmp_path / "c", made, conf(with_std=False))
    expected = StandardScaler(with_std=False).fit_transform(source)
    np.testing.assert_allclose(no_std.output("guest", GUEST, "scale_0").features(), expected, atol=1e-9)


def test_only_the_chosen_columns_change(tmp_path: Path, made: list[ComponentHarness]) -> None:
    harness = run(tmp_path, made, conf(method="min_max_scale", scale_col_indexes=[0, 2], scale_names=["x5"]))
    source = breast("breast_hetero_guest.csv").features()
    out = harness.output("guest", GUEST, "scale_0").features()
    chosen = [0, 2, 5]
    np.testing.assert_allclose(out[:, chosen], MinMaxScaler().fit_transform(source[:, chosen]), atol=1e-9)
    untouched = [i for i in range(source.shape[1]) if i not in chosen]
    np.testing.assert_array_equal(out[:, untouched], source[:, untouched])
    model = harness.model("guest", GUEST, "scale_0")
    assert [column["name"] for column in model["columns"]] == ["x0", "x2", "x5"]


def test_bounds_cut_before_scaling_in_normal_and_cap_mode(
    tmp_path: Path, made: list[ComponentHarness]
) -> None:
    upper = [1, 2, 1, 1, 0.5, 1, 2, 2, 1, 1]  # FATE's test_feature_scale example
    harness = run(tmp_path, made, conf(method="min_max_scale", guest={"feat_upper": upper}))
    source = breast("breast_hetero_guest.csv").features()
    cut = np.minimum(source, np.array(upper))
    expected = (cut - source.min(axis=0)) / (np.array(upper) - source.min(axis=0))
    np.testing.assert_allclose(harness.output("guest", GUEST, "scale_0").features(), expected, atol=1e-9)

    cap = run(
        tmp_path / "cap", made, conf(method="min_max_scale", mode="cap", feat_lower=0.1, feat_upper=0.9)
    )
    low, high = np.quantile(source, 0.1, axis=0), np.quantile(source, 0.9, axis=0)
    expected = (np.clip(source, low, high) - low) / (high - low)
    out = cap.output("guest", GUEST, "scale_0").features()
    np.testing.assert_allclose(out, expected, atol=1e-9)
    assert out.min() == 0 and out.max() == 1


def test_predict_applies_the_trained_numbers(tmp_path: Path, made: list[ComponentHarness]) -> None:
    harness = ComponentHarness(tmp_path, PREDICT_DSL, conf(method="standard_scale"))
    made.append(harness)
    train, other = (
        breast("breast_hetero_guest.csv", slice(0, 400)),
        breast("breast_hetero_guest.csv", slice(400, None)),
    )
    for role, party_id, side in (("guest", GUEST, "guest"), ("host", HOST, "host")):
        data = train if side == "guest" else breast("breast_hetero_host.csv", slice(0, 400))
        rest = other if side == "guest" else breast("breast_hetero_host.csv", slice(400, None))
        harness.plant(role, party_id, "data_transform_0", data)
        harness.plant(role, party_id, "data_transform_1", rest)
    harness.run_ok("scale_0")
    harness.run_ok("scale_1")
    fitted = StandardScaler().fit(train.features())
    predicted = harness.output("guest", GUEST, "scale_1")
    np.testing.assert_allclose(predicted.features(), fitted.transform(other.features()), atol=1e-9)
    assert list(predicted.ids()) == list(other.ids())


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"method": "log_scale"}, "method"),
        ({"scale_col_indexes": 3}, "scale_col_indexes"),
        ({"scale_col_indexes": [40]}, "beyond the 10 feature columns"),
        ({"scale_col_indexes": [], "scale_names": ["nope"]}, "scale_names ['nope']"),
        ({"feat_upper": [1, 2]}, "feat_upper has 2 values for 10"),
        ({"mode": "cap", "feat_upper": 3}, "percentile between 0 and 1"),
        ({"feat_lower": 5, "feat_upper": 1}, "feat_lower is above feat_upper"),
        ({"with_mean": "maybe"}, "with_mean"),
    ],
)
def test_bad_parameters_name_the_field(
    tmp_path: Path, made: list[ComponentHarness], params: dict[str, Any], words: str
) -> None:
    harness = ComponentHarness(tmp_path, DSL, conf(**params))
    made.append(harness)
    harness.plant("guest", GUEST, "data_transform_0", breast("breast_hetero_guest.csv"))
    harness.plant("host", HOST, "data_transform_0", breast("breast_hetero_host.csv"))
    failures = harness.run("scale_0")
    error = failures[next(iter(failures))]
    assert isinstance(error, ComponentParameterError) and words in str(error), error
