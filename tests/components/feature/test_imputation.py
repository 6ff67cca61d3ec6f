"""FeatureImputation against pandas on the breast data: each party fills its own missing cells.

Filled rows equal pandas' ``mask`` + ``fillna`` with the same fill values (a column's min / max / mean
of its non-missing cells, or the designated value); a saved model fills other rows with the training
values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from accord.components.feature.imputation import FeatureImputation
from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.errors import ComponentParameterError

from .support import GUEST, HOST, conf, dsl, harness, parties, plant

NAME = "imputation_0"


def reference(
    data: Dataset, methods: dict[str, Any], missing: list[float] | None, default: float = 0
) -> pd.DataFrame:
    """pandas: the missing cells (NaN, or the listed values) of each column with a method, filled."""
    frame = pd.DataFrame(data.features(), columns=list(data.header))
    out = frame.copy()
    for col, method in methods.items():
        if method is None:
            continue
        hit = frame[col].isna() if missing is None else frame[col].isin(missing)
        counted = frame[col].mask(hit)
        fill = {"min": counted.min(), "max": counted.max(), "mean": counted.mean(), "designated": default}[
            method
        ]
        out[col] = frame[col].mask(hit, fill)
    return out


def with_zeros(data: Dataset) -> Dataset:
    features = data.features().copy()
    features[np.random.default_rng(7).random(features.shape) < 0.05] = 0.0
    return Dataset.instances(
        data.ids(), features, header=data.header, labels=data.labels(), label_name=data.label_name
    )


def run(
    tmp_path: Path, engine: Engine | None, common: dict[str, Any], guest: dict[str, Any] | None = None
) -> Any:
    running = harness(
        tmp_path / "home", dsl("FeatureImputation", NAME, predict=True), conf(NAME, common, guest), engine
    )
    train_guest, train_host = (with_zeros(d) for d in parties())
    plant(running, "guest", "data_transform_0", train_guest)
    plant(running, "host", "data_transform_0", train_host)
    plant(running, "guest", "data_transform_1", with_zeros(parties()[0].take(np.arange(0, 200))))
    plant(running, "host", "data_transform_1", with_zeros(parties()[1].take(np.arange(0, 200))))
    running.run_ok(NAME)
    return running, train_guest, train_host


def test_mean_fills_nan_cells_and_the_model_fills_new_rows(tmp_path: Path, engine: Engine) -> None:
    running, guest, host = run(tmp_path, engine, {"missing_fill_method": "mean"})
    try:
        for role, party_id, data in (("guest", GUEST, guest), ("host", HOST, host)):
            want = reference(data, dict.fromkeys(data.header, "mean"), None)
            got = running.output(role, party_id, NAME)
            np.testing.assert_allclose(got.features(), want.to_numpy(), rtol=1e-12)
            assert got.ids().tolist() == data.ids().tolist()
            assert (got.labels() is None) == (data.labels() is None)
            model = running.model(role, party_id, NAME)
            np.testing.assert_allclose(
                [model["fill_values"][c] for c in data.header],
                np.nanmean(data.features(), axis=0),
                rtol=1e-12,
            )
            rates = np.isnan(data.features()).mean(axis=0)
            np.testing.assert_allclose([model["missing_value_ratio"][c] for c in data.header], rates)
        running.run_ok("imputation_1")
        test = running.output("guest", GUEST, "imputation_1")
        source = with_zeros(parties()[0].take(np.arange(0, 200))).features()
        fills = np.nanmean(guest.features(), axis=0)
        np.testing.assert_allclose(test.features(), np.where(np.isnan(source), fills, source), rtol=1e-12)
    finally:
        running.close()


@pytest.mark.parametrize("method", ["min", "max", "mean", "designated"])
def test_listed_values_are_imputed_and_nan_is_kept(tmp_path: Path, method: str) -> None:
    params = {"missing_fill_method": method, "missing_impute": [0], "default_value": 42}
    running, guest, host = run(tmp_path, None, params)
    try:
        for role, party_id, data in (("guest", GUEST, guest), ("host", HOST, host)):
            want = reference(data, dict.fromkeys(data.header, method), [0.0], 42)
            got = running.output(role, party_id, NAME).features()
            np.testing.assert_allclose(got, want.to_numpy(), rtol=1e-12)
            assert np.isnan(got).sum() == np.isnan(data.features()).sum()
    finally:
        running.close()


def test_per_column_methods_fill_only_those_columns(tmp_path: Path) -> None:
    guest_methods = {"col_missing_fill_method": {"x0": "min", "x2": "designated"}}
    running, guest, host = run(tmp_path, None, {"missing_impute": [0], "default_value": 42}, guest_methods)
    try:
        want = reference(guest, {"x0": "min", "x2": "designated"}, [0.0], 42)
        np.testing.assert_allclose(
            running.output("guest", GUEST, NAME).features(), want.to_numpy(), rtol=1e-12
        )
        model = running.model("guest", GUEST, NAME)
        assert set(model["fill_values"]) == {"x0", "x2"} and model["fill_values"]["x2"] == 42
        assert set(model["skip_cols"]) == set(guest.header) - {"x0", "x2"}
        # The host names no method: nothing is imputed there, as in FATE.
        np.testing.assert_array_equal(running.output("host", HOST, NAME).features(), host.features())
        running.run_ok("imputation_1")
        test = with_zeros(parties()[0].take(np.arange(0, 200))).features()
        fills = np.array([model["fill_values"].get(c, np.nan) for c in guest.header])
        want_test = np.where((test == 0) & ~np.isnan(fills), fills, test)
        np.testing.assert_allclose(running.output("guest", GUEST, "imputation_1").features(), want_test)
    finally:
        running.close()


def test_default_parameters_impute_nothing(tmp_path: Path) -> None:
    running, guest, _ = run(tmp_path, None, {})
    try:
        np.testing.assert_array_equal(running.output("guest", GUEST, NAME).features(), guest.features())
    finally:
        running.close()


def test_a_column_method_for_a_column_the_party_lacks_fails_the_task(tmp_path: Path) -> None:
    running = harness(
        tmp_path / "home",
        dsl("FeatureImputation", NAME),
        conf(NAME, {"col_missing_fill_method": {"nope": "max"}}),
        None,
    )
    try:
        guest, host = parties()
        plant(running, "guest", "data_transform_0", guest)
        plant(running, "host", "data_transform_0", host)
        errors = running.run(NAME)
        assert all(
            isinstance(error, ComponentParameterError) and "nope" in str(error) for error in errors.values()
        )
    finally:
        running.close()


@pytest.mark.parametrize(
    ("params", "words", "code"),
    [
        ({"missing_fill_method": "median"}, "missing_fill_method", 10126),
        ({"col_missing_fill_method": {"x0": "mode"}}, "col_missing_fill_method", 10126),
        ({"missing_fill_method": "designated", "default_value": "abc"}, "text", 10127),
        ({"need_run": "yes"}, "need_run", 10126),
    ],
)
def test_bad_parameters_are_refused_before_running(params: dict[str, Any], words: str, code: int) -> None:
    with pytest.raises(ComponentParameterError, match=words) as raised:
        FeatureImputation().check_parameters(params, component=NAME, module="FeatureImputation")
    assert raised.value.code == code


def test_methods_are_case_insensitive() -> None:
    params = FeatureImputation().check_parameters(
        {"missing_fill_method": "MAX", "col_missing_fill_method": {"a": "Min"}},
        component=NAME,
        module="FeatureImputation",
    )
    assert params.missing_fill_method == "max" and params.col_missing_fill_method == {"a": "min"}
