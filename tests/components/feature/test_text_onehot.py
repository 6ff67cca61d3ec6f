"""Text features (DataTransform data_type "str") end to end against pandas on FATE's mocked_string_data.

DataTransform keeps each cell as written; OneHotEncoder and HomoOneHotEncoder turn each text v of a
chosen column c into the 0/1 column ``c_v`` (pandas.get_dummies names and sorts them the same way);
a numeric component given text features refuses them with a coded error that names the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from accord.components.data_transform.component import DataTransform
from accord.components.data_transform.params import DataTransformParam
from accord.components.feature.homo_onehot.component import union_of
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported, DataFormatError
from tests.components.harness import ComponentHarness
from tests.components.transform_support import DATA, raw_from_lines, transform_job

from . import homo_support
from .support import GUEST, HOST, conf, dsl, harness, plant

STRING_DATA = DATA / "mocked_string_data.csv"
TRAIN, TEST = slice(0, 600), slice(600, 900)


def frame(rows: slice) -> pd.DataFrame:
    """The file's rows as pandas reads them, every cell as text."""
    return pd.read_csv(STRING_DATA, dtype=str, keep_default_na=False).iloc[rows].reset_index(drop=True)


def text_rows(data: pd.DataFrame) -> Dataset:
    """What DataTransform with data_type str outputs for ``data`` (built independently of it)."""
    features = [c for c in data.columns if c not in ("id", "y")]
    return Dataset.text_instances(
        data["id"].to_numpy(),
        data[features].to_numpy(dtype=object),
        header=features,
        labels=data["y"].astype(float).to_numpy(),
        label_name="y",
        extra={"data_type": "str"},
    )


def dummies(train: pd.DataFrame, data: pd.DataFrame, chosen: list[str]) -> pd.DataFrame:
    """pandas: each chosen column as get_dummies over the training values, in its place."""
    parts = []
    for col in [c for c in data.columns if c not in ("id", "y")]:
        if col not in chosen:
            parts.append(data[[col]])
            continue
        categories = sorted(train[col].unique())
        part = pd.get_dummies(pd.Categorical(data[col], categories=categories), dtype=float)
        part.columns = [f"{col}_{v}" for v in categories]
        parts.append(part)
    return pd.concat(parts, axis=1)


def _plant_raw(running: ComponentHarness, role: str, party_id: int, component: str, raw: Dataset) -> None:
    path = layout.data_path(running.party_dir(role, party_id), component, "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        raw.table.replace_schema_metadata(with_meta(raw.table.schema, raw.meta())), path, row_group_size=97
    )


def test_data_transform_keeps_text_and_predict_reads_the_same_way(tmp_path: Path, engine: Engine) -> None:
    lines = STRING_DATA.read_text().splitlines()
    params = {"with_label": True, "label_name": "y", "data_type": "str"}
    job_dsl, job_conf = transform_job(params, params, with_predict=True)
    running = ComponentHarness(tmp_path / "home", job_dsl, job_conf, engine=engine)
    try:
        for role, party_id in (("guest", GUEST), ("host", HOST)):
            _plant_raw(running, role, party_id, "reader_0", raw_from_lines([lines[0], *lines[1:601]]))
            _plant_raw(running, role, party_id, "reader_1", raw_from_lines([lines[0], *lines[601:901]]))
        running.run_ok("data_transform_0")
        running.run_ok("data_transform_1")
        for component, rows in (("data_transform_0", TRAIN), ("data_transform_1", TEST)):
            want = frame(rows)
            out = running.output("guest", GUEST, component)
            assert out.is_text and list(out.header) == [f"x{i}" for i in range(20)]
            np.testing.assert_array_equal(out.text_features(), want[list(out.header)].to_numpy(dtype=object))
            np.testing.assert_array_equal(out.labels(), want["y"].astype(float).to_numpy())
            assert out.ids().tolist() == want["id"].tolist()
            with pytest.raises(DataFormatError, match="text features") as refused:
                out.features()
            assert "OneHotEncoder" in str(refused.value.hint) and refused.value.code == 10202
        assert running.model("guest", GUEST, "data_transform_0")["settings"]["data_type"] == "str"
    finally:
        running.close()


def run_onehot(
    tmp_path: Path, engine: Engine | None, params: dict[str, Any], train: pd.DataFrame, test: pd.DataFrame
) -> Any:
    name = "onehot_0"
    running = harness(tmp_path / "home", dsl("OneHotEncoder", name, predict=True), conf(name, params), engine)
    for role in ("guest", "host"):
        plant(running, role, "data_transform_0", text_rows(train))
        plant(running, role, "data_transform_1", text_rows(test))
    running.run_ok(name)
    running.run_ok("onehot_1")
    return running


def test_every_text_column_encoded_equals_get_dummies_and_predict(tmp_path: Path, engine: Engine) -> None:
    train, test = frame(TRAIN), frame(TEST)
    # A value training never saw encodes as all zeros (pandas: outside the categories).
    test.loc[::7, "x3"] = "Z"
    running = run_onehot(tmp_path, engine, {"transform_col_indexes": -1}, train, test)
    try:
        columns = [f"x{i}" for i in range(20)]
        want = dummies(train, train, columns)
        out = running.output("guest", GUEST, "onehot_0")
        assert not out.is_text and list(out.header) == list(want.columns)
        assert out.header[:5] == ("x0_A", "x0_B", "x0_C", "x0_D", "x0_E")
        np.testing.assert_array_equal(out.features(), want.to_numpy())
        np.testing.assert_array_equal(out.labels(), train["y"].astype(float).to_numpy())
        model = running.model("guest", GUEST, "onehot_0")
        assert model["value_type"] == "text" and model["col_map"]["x0"]["values"] == ["A", "B", "C", "D", "E"]
        applied = running.output("guest", GUEST, "onehot_1")
        np.testing.assert_array_equal(applied.features(), dummies(train, test, columns).to_numpy())
        unseen = (test["x3"] == "Z").to_numpy()
        position = list(applied.header).index("x3_A")
        assert (applied.features()[unseen, position : position + 5] == 0).all()
    finally:
        running.close()


def test_columns_left_as_text_keep_the_output_text_and_numeric_components_refuse_it(tmp_path: Path) -> None:
    # FATE's homo_onehot_string_partial_col_test: some columns encoded, the others stay letters.
    chosen = [1, 2, 5]
    running = run_onehot(tmp_path, None, {"transform_col_indexes": chosen}, frame(TRAIN), frame(TEST))
    try:
        train = frame(TRAIN)
        names = [f"x{i}" for i in chosen]
        want = dummies(train, train, names)
        for name in want.columns:
            if name not in train.columns:
                want[name] = want[name].astype(int).astype(str)
        out = running.output("host", HOST, "onehot_0")
        assert out.is_text and list(out.header) == list(want.columns)
        np.testing.assert_array_equal(out.text_features(), want.to_numpy(dtype=object))
        assert out.extra["text_columns"] == [f"x{i}" for i in range(20) if i not in chosen]
        with pytest.raises(DataFormatError, match="x0, x3, x4") as refused:
            out.features()
        assert "transform_col_indexes" in str(refused.value.hint)
    finally:
        running.close()


def test_unchosen_columns_holding_numbers_give_numeric_rows(tmp_path: Path) -> None:
    train, test = frame(TRAIN), frame(TEST)
    for data in (train, test):
        data["x1"] = (data["x1"].map(ord) - 64).astype(str) + ".5"
    chosen = [f"x{i}" for i in range(20) if i != 1]
    running = run_onehot(
        tmp_path, None, {"transform_col_indexes": [], "transform_col_names": chosen}, train, test
    )
    try:
        want = dummies(train, test, chosen).astype({"x1": float})
        applied = running.output("guest", GUEST, "onehot_1")
        assert not applied.is_text and list(applied.header) == list(want.columns)
        np.testing.assert_array_equal(applied.features(), want.to_numpy(dtype=float))
    finally:
        running.close()


def test_homo_union_of_text_values_equals_get_dummies_on_both_clients(tmp_path: Path, engine: Engine) -> None:
    name = "homo_onehot_0"
    guest, host = frame(slice(0, 500)), frame(slice(500, 1000))
    # Each client lacks a value the other has: the union covers both.
    guest.loc[guest["x0"] == "E", "x0"] = "A"
    host.loc[host["x2"] == "B", "x2"] = "F"
    running = homo_support.harness(
        tmp_path / "home",
        homo_support.dsl("HomoOneHotEncoder", name, predict=True),
        homo_support.conf(name, {"transform_col_indexes": -1, "need_alignment": True}),
        engine,
    )
    try:
        homo_support.plant(running, "guest", "data_transform_0", text_rows(guest))
        homo_support.plant(running, "host", "data_transform_0", text_rows(host))
        homo_support.plant(running, "guest", "data_transform_1", text_rows(host))
        homo_support.plant(running, "host", "data_transform_1", text_rows(guest))
        running.run_ok(name)
        both = pd.concat([guest, host], ignore_index=True)
        columns = [f"x{i}" for i in range(20)]
        for role, party_id, data in (("guest", GUEST, guest), ("host", HOST, host)):
            want = dummies(both, data, columns)
            out = running.output(role, party_id, name)
            assert list(out.header) == list(want.columns)
            np.testing.assert_array_equal(out.features(), want.to_numpy())
        assert "x0_E" in running.output("guest", GUEST, name).header
        assert "x2_F" in running.output("guest", GUEST, name).header
        running.run_ok("homo_onehot_1")
        applied = running.output("guest", GUEST, "homo_onehot_1")
        np.testing.assert_array_equal(applied.features(), running.output("host", HOST, name).features())
    finally:
        running.close()


def test_a_numeric_component_given_text_features_fails_with_the_fix(tmp_path: Path) -> None:
    running = harness(tmp_path / "home", dsl("FeatureScale", "scale_0"), conf("scale_0", {}), None)
    try:
        for role in ("guest", "host"):
            plant(running, role, "data_transform_0", text_rows(frame(TRAIN)))
        errors = running.run("scale_0")
        for error in errors.values():
            assert isinstance(error, DataFormatError) and error.code == 10202
            assert "text features (x0, x1" in error.message
            assert "OneHotEncoder/HomoOneHotEncoder" in str(error.hint)
    finally:
        running.close()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"exclusive_data_type": {"x0": "str"}}, "exclusive_data_type"),
        ({"data_type": "str", "exclusive_data_type": {"x0": "float64"}}, "exclusive_data_type"),
        ({"data_type": "str", "input_format": "tag"}, "input_format"),
        ({"data_type": "str", "missing_fill": True}, "missing_fill"),
        ({"data_type": "str", "outlier_replace": True}, "outlier_replace"),
    ],
)
def test_text_readings_accord_does_not_do_are_refused_naming_the_option(
    params: dict[str, Any], field: str
) -> None:
    with pytest.raises(ComponentFeatureUnsupported, match=field) as refused:
        DataTransform().check_supported(DataTransformParam.model_validate(params), "data_transform_0")
    assert refused.value.code == 10127 and refused.value.details["field"] == field
    DataTransform().check_supported(DataTransformParam(data_type="str"), "data_transform_0")


def test_the_arbiter_refuses_text_on_one_client_and_numbers_on_another() -> None:
    sent = [
        {"header": ["x0"], "value_type": "text", "values": {"x0": ["A"]}, "text_columns": []},
        {"header": ["x0"], "value_type": "number", "values": {"x0": [1.0]}, "text_columns": []},
    ]
    assert "text and others' numbers" in union_of(sent, "homo_onehot_0")["problem"]
    sent[1] = {"header": ["x0"], "value_type": "text", "values": {"x0": ["C", "B"]}, "text_columns": []}
    assert union_of(sent, "homo_onehot_0")["values"] == {"x0": ["A", "B", "C"]}


def test_output_data_shows_text_features_as_written() -> None:
    from accord.site.tracking import _rows

    data = frame(slice(0, 3))
    header, rows = _rows(text_rows(data))
    assert header == ["id", "y", *[f"x{i}" for i in range(20)]]
    assert list(rows) == [[row["id"], int(row["y"]), *row.iloc[2:].tolist()] for _, row in data.iterrows()]
