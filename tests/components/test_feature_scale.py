"""FeatureScale on FATE's breast data, against scikit-learn's MinMaxScaler and StandardScaler.

Each party scales only its own columns. Fit results equal scikit-learn's to 1e-9; bounds follow FATE
(a column's min and max pulled inside feat_lower / feat_upper, percentiles in cap mode); a saved model
scales other rows with the training numbers, cut to the training bounds, without refitting.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from accord.components.feature_scale import FeatureScale
from accord.components.sdk import Dataset, layout
from accord.errors import ComponentParameterError, DataMismatchError

from .breast import DATA
from .harness import ComponentHarness

GUEST, HOST = 9999, 10000
HETERO_GUEST, HETERO_HOST = "breast_hetero_guest.csv", "breast_hetero_host.csv"
HOMO_GUEST, HOMO_HOST = "breast_homo_guest.csv", "breast_homo_host.csv"
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
    "output": {"data": ["data"], "model": ["model"]},
}


def breast(name: str, rows: slice = slice(None)) -> Dataset:
    """A FATE breast file as DataTransform outputs it: features x0.., the label y when the file has one."""
    path = DATA / name
    names = path.read_text().splitlines()[0].split(",")
    table = np.loadtxt(path, delimiter=",", skiprows=1)[rows]
    labelled = names[1] == "y"
    first = 2 if labelled else 1
    return Dataset.instances(
        [str(int(sid)) for sid in table[:, 0]],
        table[:, first:],
        header=names[first:],
        labels=table[:, 1] if labelled else None,
        label_name="y" if labelled else None,
    )


def conf(guest: dict[str, Any] | None = None, **scale: Any) -> dict[str, Any]:
    """``scale`` for both parties, updated by ``guest`` on the guest."""
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
    tmp_path: Path,
    made: list[ComponentHarness],
    job: dict[str, Any],
    files: tuple[str, str] = (HETERO_GUEST, HETERO_HOST),
) -> ComponentHarness:
    harness = ComponentHarness(tmp_path, DSL, job)
    made.append(harness)
    harness.plant("guest", GUEST, "data_transform_0", breast(files[0]))
    harness.plant("host", HOST, "data_transform_0", breast(files[1]))
    harness.run_ok("scale_0")
    return harness


def scaled(harness: ComponentHarness, role: str = "guest") -> np.ndarray:
    return harness.output(role, GUEST if role == "guest" else HOST, "scale_0").features()


def test_min_max_equals_scikit_learn_on_each_party(tmp_path: Path, made: list[ComponentHarness]) -> None:
    harness = run(tmp_path, made, conf(method="min_max_scale", mode="normal"))
    for role, party_id, name in (("guest", GUEST, HETERO_GUEST), ("host", HOST, HETERO_HOST)):
        source = breast(name)
        out = harness.output(role, party_id, "scale_0")
        np.testing.assert_allclose(out.features(), MinMaxScaler().fit_transform(source.features()), atol=1e-9)
        assert list(out.ids()) == list(source.ids()) and out.header == source.header
        model = harness.model(role, party_id, "scale_0")
        assert model["meta"]["method"] == "min_max_scale"
        assert set(model["col_scale_param"]) == set(source.header)
        x0 = model["col_scale_param"]["x0"]
        assert (x0["column_lower"], x0["column_upper"]) == (
            source.features()[:, 0].min(),
            source.features()[:, 0].max(),
        )
    out = harness.output("guest", GUEST, "scale_0")
    labels = out.labels()
    assert labels is not None and out.label_name == "y"
    np.testing.assert_array_equal(labels, breast(HETERO_GUEST).labels())
    assert harness.output("host", HOST, "scale_0").labels() is None
    summary = json.loads(
        (layout.output_dir(harness.party_dir("guest", GUEST), "scale_0") / "summary.json").read_text()
    )
    assert set(summary["x3"]) == {"column_lower", "column_upper", "mean", "std"}


def test_standard_scale_is_the_default_and_equals_scikit_learn(
    tmp_path: Path, made: list[ComponentHarness]
) -> None:
    files = (HOMO_GUEST, HOMO_HOST)
    source = {role: breast(name).features() for role, name in zip(("guest", "host"), files, strict=True)}
    harness = run(tmp_path, made, conf(), files)
    for role in ("guest", "host"):
        np.testing.assert_allclose(
            scaled(harness, role), StandardScaler().fit_transform(source[role]), atol=1e-9
        )
    model = harness.model("guest", GUEST, "scale_0")
    assert model["meta"]["method"] == "standard_scale"
    assert model["col_scale_param"]["x7"]["mean"] == pytest.approx(source["guest"][:, 7].mean(), abs=1e-12)
    assert model["col_scale_param"]["x7"]["std"] == pytest.approx(source["guest"][:, 7].std(), abs=1e-12)

    for index, (with_mean, with_std) in enumerate(((False, True), (True, False), (False, False))):
        harness = run(tmp_path / str(index), made, conf(with_mean=with_mean, with_std=with_std), files)
        expected = StandardScaler(with_mean=with_mean, with_std=with_std).fit_transform(source["guest"])
        np.testing.assert_allclose(scaled(harness), expected, atol=1e-9)


def test_only_the_chosen_columns_change(tmp_path: Path, made: list[ComponentHarness]) -> None:
    # x15 is only the host's: as in FATE, each party scales the names it has and skips the others.
    job = conf(method="min_max_scale", scale_col_indexes=[2, 0], scale_names=["x5", "x15"])
    harness = run(tmp_path, made, job)
    for role, name, chosen in (("guest", HETERO_GUEST, [0, 2, 5]), ("host", HETERO_HOST, [0, 2, 5, 15])):
        source = breast(name).features()
        out = scaled(harness, role)
        np.testing.assert_allclose(out[:, chosen], MinMaxScaler().fit_transform(source[:, chosen]), atol=1e-9)
        untouched = [i for i in range(source.shape[1]) if i not in chosen]
        np.testing.assert_array_equal(out[:, untouched], source[:, untouched])
        model = harness.model(role, GUEST if role == "guest" else HOST, "scale_0")
        assert list(model["meta"]["scale_column"]) == [f"x{i}" for i in chosen]
        assert set(model["col_scale_param"]) == {f"x{i}" for i in chosen}
    # Names alone choose the columns once scale_col_indexes is an empty list; -1 ignores the names.
    by_name = run(
        tmp_path / "names", made, conf(method="standard_scale", scale_col_indexes=[], scale_names=["x1"])
    )
    source = breast(HETERO_GUEST).features()
    np.testing.assert_allclose(
        scaled(by_name)[:, [1]], StandardScaler().fit_transform(source[:, [1]]), atol=1e-9
    )
    np.testing.assert_array_equal(np.delete(scaled(by_name), 1, axis=1), np.delete(source, 1, axis=1))


def test_given_bounds_cut_the_column_range_in_normal_mode(
    tmp_path: Path, made: list[ComponentHarness]
) -> None:
    upper = np.array([1, 2, 1, 1, 0.5, 1, 2, 2, 1, 1])  # FATE's test_feature_scale_normal example
    harness = run(tmp_path, made, conf(method="min_max_scale", guest={"feat_upper": upper.tolist()}))
    source = breast(HETERO_GUEST).features()
    high = np.minimum(source.max(axis=0), upper)
    low = np.minimum(source.min(axis=0), upper)
    expected = (np.clip(source, low, high) - low) / (high - low)
    np.testing.assert_allclose(scaled(harness), expected, atol=1e-9)
    host = breast(HETERO_HOST).features()
    np.testing.assert_allclose(scaled(harness, "host"), MinMaxScaler().fit_transform(host), atol=1e-9)

    # Bounds outside the data leave the column's own min and max; standard_scale uses the cut column.
    wide = run(tmp_path / "wide", made, conf(method="min_max_scale", feat_lower=-1e9, feat_upper=1e9))
    np.testing.assert_allclose(scaled(wide), MinMaxScaler().fit_transform(source), atol=1e-9)
    cut = run(tmp_path / "std", made, conf(feat_lower=-0.5, feat_upper=0.5))
    clipped = np.clip(source, -0.5, 0.5)
    np.testing.assert_allclose(scaled(cut), StandardScaler().fit_transform(clipped), atol=1e-9)
    model = cut.model("guest", GUEST, "scale_0")["col_scale_param"]["x0"]
    assert (model["column_lower"], model["column_upper"]) == (-0.5, 0.5)


def test_cap_mode_takes_percentiles_of_the_column(tmp_path: Path, made: list[ComponentHarness]) -> None:
    harness = run(tmp_path, made, conf(method="min_max_scale", mode="cap", feat_lower=0.1, feat_upper=0.9))
    source = breast(HETERO_GUEST).features()
    low, high = np.quantile(source, 0.1, axis=0), np.quantile(source, 0.9, axis=0)
    out = scaled(harness)
    np.testing.assert_allclose(out, (np.clip(source, low, high) - low) / (high - low), atol=1e-9)
    assert out.min() == 0 and out.max() == 1
    # FATE's test_feature_scale_cap example: percentiles 0 and 1 are the min and max.
    whole = run(
        tmp_path / "whole", made, conf(method="min_max_scale", mode="cap", feat_upper=1, feat_lower=0)
    )
    np.testing.assert_allclose(scaled(whole), MinMaxScaler().fit_transform(source), atol=1e-9)


def test_predict_applies_the_trained_numbers(tmp_path: Path, made: list[ComponentHarness]) -> None:
    for method, scaler in (("standard_scale", StandardScaler()), ("min_max_scale", MinMaxScaler())):
        harness = ComponentHarness(tmp_path / method, PREDICT_DSL, conf(method=method))
        made.append(harness)
        data = {
            "guest": (breast(HOMO_GUEST), breast(HOMO_HOST)),
            "host": (breast(HETERO_HOST, slice(0, 400)), breast(HETERO_HOST, slice(400, None))),
        }
        for role, party_id in (("guest", GUEST), ("host", HOST)):
            harness.plant(role, party_id, "data_transform_0", data[role][0])
            harness.plant(role, party_id, "data_transform_1", data[role][1])
        harness.run_ok("scale_0")
        harness.run_ok("scale_1")
        for role, party_id in (("guest", GUEST), ("host", HOST)):
            train, other = (part.features() for part in data[role])
            fitted = scaler.fit(train)
            # New values beyond the training range are cut to it first, as FATE does.
            expected = fitted.transform(np.clip(other, train.min(axis=0), train.max(axis=0)))
            predicted = harness.output(role, party_id, "scale_1")
            np.testing.assert_allclose(predicted.features(), expected, atol=1e-9)
            assert list(predicted.ids()) == list(data[role][1].ids())
            # No refit: the applied model is the trained one, passed on as this component's model.
            assert harness.model(role, party_id, "scale_1") == harness.model(role, party_id, "scale_0")
        if method == "min_max_scale":
            predicted_guest = harness.output("guest", GUEST, "scale_1").features()
            assert predicted_guest.min() >= 0 and predicted_guest.max() <= 1


def test_other_columns_are_kept(tmp_path: Path, made: list[ComponentHarness]) -> None:
    harness = ComponentHarness(tmp_path, DSL, conf(method="min_max_scale"))
    made.append(harness)
    source = breast(HOMO_GUEST)
    weights = np.linspace(0.5, 1.5, len(source))
    weighted = Dataset.instances(
        source.ids(),
        source.features(),
        header=source.header,
        labels=source.labels(),
        weights=weights,
        sid_name="id",
        label_name="y",
        extra={"output_format": "dense"},
    )
    table = weighted.table.append_column("match_id", pa.array([f"m{sid}" for sid in source.ids()]))
    harness.plant(
        "guest",
        GUEST,
        "data_transform_0",
        Dataset(table, "instances", weighted.header, "id", "y", weighted.extra),
    )
    harness.plant("host", HOST, "data_transform_0", breast(HOMO_HOST))
    harness.run_ok("scale_0")
    out = harness.output("guest", GUEST, "scale_0")
    assert out.table.column_names == table.column_names
    np.testing.assert_array_equal(
        out.column("match_id"), table.column("match_id").to_numpy(zero_copy_only=False)
    )
    np.testing.assert_array_equal(out.weights(), weights)
    assert out.extra == {"output_format": "dense"} and out.sid_name == "id"


def test_need_run_false_or_no_method_passes_the_rows_through(
    tmp_path: Path, made: list[ComponentHarness]
) -> None:
    choices: list[dict[str, Any]] = [{"need_run": False}, {"method": None}]
    for index, params in enumerate(choices):
        harness = run(tmp_path / str(index), made, conf(**params))
        np.testing.assert_array_equal(scaled(harness), breast(HETERO_GUEST).features())
        assert harness.model("guest", GUEST, "scale_0")["col_scale_param"] == {}


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"method": "log_scale"}, "method"),
        ({"mode": "clip"}, "mode"),
        ({"scale_col_indexes": 3}, "scale_col_indexes"),
        ({"scale_col_indexes": [-2]}, "scale_col_indexes"),
        ({"scale_names": "x1"}, "scale_names"),
        ({"with_mean": "maybe"}, "with_mean"),
        ({"with_std": 1}, "with_std"),
        ({"need_run": "yes"}, "need_run"),
        ({"feat_upper": "high"}, "feat_upper"),
        ({"mode": "cap", "feat_upper": 3}, "feat_upper is a percentile of the column, between 0 and 1"),
        ({"feat_lower": 5, "feat_upper": 1}, "feat_lower is above feat_upper"),
        ({"scale": "min_max"}, "scale"),
    ],
)
def test_bad_parameters_are_refused_before_running(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ComponentParameterError) as caught:
        FeatureScale().check_parameters(params, component="scale_0", module="FeatureScale")
    assert words in str(caught.value) and "scale_0" in str(caught.value)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"scale_col_indexes": [40]}, "scale_col_indexes [40] are beyond this party's 10 feature columns"),
        ({"feat_upper": [1, 2]}, "feat_upper has 2 values for 10 feature columns"),
        ({"mode": "cap", "feat_lower": [0.1] * 3}, "feat_lower has 3 values for 10 feature columns"),
    ],
)
def test_parameters_that_do_not_fit_the_data_fail_the_task(
    tmp_path: Path, made: list[ComponentHarness], params: dict[str, Any], words: str
) -> None:
    harness = ComponentHarness(tmp_path, DSL, conf(guest=params))
    made.append(harness)
    harness.plant("guest", GUEST, "data_transform_0", breast(HETERO_GUEST))
    harness.plant("host", HOST, "data_transform_0", breast(HETERO_HOST))
    failures = {party.role: error for party, error in harness.run("scale_0").items()}
    assert failures["host"] is None
    error = failures["guest"]
    assert isinstance(error, ComponentParameterError) and words in str(error), error
    assert error.code == 10126


def test_predict_on_rows_without_the_model_columns_is_refused(
    tmp_path: Path, made: list[ComponentHarness]
) -> None:
    harness = ComponentHarness(tmp_path, PREDICT_DSL, conf())
    made.append(harness)
    for role, party_id in (("guest", GUEST), ("host", HOST)):
        harness.plant(role, party_id, "data_transform_0", breast(HETERO_HOST))
    harness.plant("guest", GUEST, "data_transform_1", breast(HETERO_GUEST))
    harness.plant("host", HOST, "data_transform_1", breast(HETERO_HOST))
    harness.run_ok("scale_0")
    failures = {party.role: error for party, error in harness.run("scale_1").items()}
    assert failures["host"] is None
    assert isinstance(failures["guest"], DataMismatchError) and "x10" in str(failures["guest"])
