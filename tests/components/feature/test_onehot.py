"""OneHotEncoder against pandas.get_dummies on integer-valued columns of the breast data.

Each chosen column c becomes, in its place, one 0/1 column ``c_v`` per value v seen in training
(FATE's names), the others keep their place; a saved model encodes new rows with the training
columns, a value it has not seen giving all zeros.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from accord.components.feature.onehot import OneHotEncoder
from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.errors import ComponentParameterError, DataFormatError

from .support import GUEST, HOST, conf, dsl, harness, parties, plant

NAME = "onehot_0"


def integers(data: Dataset, rows: slice = slice(None)) -> Dataset:
    """Each feature as a small whole number (its quintile bucket, shifted to include negatives)."""
    features = data.features()
    edges = np.nanquantile(features, [0.2, 0.4, 0.6, 0.8], axis=0)
    buckets = np.stack(
        [np.searchsorted(edges[:, j], features[:, j]) for j in range(features.shape[1])], axis=1
    )
    picked = np.arange(len(data))[rows]
    labels = data.labels()
    return Dataset.instances(
        data.ids()[picked],
        (buckets - 2.0)[picked],
        header=data.header,
        labels=None if labels is None else labels[picked],
        label_name=data.label_name,
    )


def reference(train: Dataset, data: Dataset, chosen: list[str]) -> pd.DataFrame:
    """pandas: get_dummies of each chosen column over the training values, in the column's place."""
    frame = pd.DataFrame(data.features(), columns=list(data.header))
    known = pd.DataFrame(train.features(), columns=list(train.header))
    parts = []
    for col in frame.columns:
        if col not in chosen:
            parts.append(frame[[col]])
            continue
        values = sorted(int(v) for v in known[col].unique())
        dummies = pd.get_dummies(pd.Categorical(frame[col].astype(int), categories=values), dtype=float)
        dummies.columns = [f"{col}_{v}" for v in values]
        parts.append(dummies)
    return pd.concat(parts, axis=1)


def run(tmp_path: Path, engine: Engine | None, params: dict[str, Any]) -> Any:
    running = harness(tmp_path / "home", dsl("OneHotEncoder", NAME, predict=True), conf(NAME, params), engine)
    guest, host = (integers(d) for d in parties(gaps=False))
    plant(running, "guest", "data_transform_0", guest.take(np.arange(0, 400)))
    plant(running, "host", "data_transform_0", host.take(np.arange(0, 400)))
    plant(running, "guest", "data_transform_1", guest.take(np.arange(400, len(guest))))
    plant(running, "host", "data_transform_1", host.take(np.arange(400, len(host))))
    running.run_ok(NAME)
    return running, guest, host


def test_every_column_encoded_equals_get_dummies_and_predict_reuses_the_columns(
    tmp_path: Path, engine: Engine
) -> None:
    running, guest, host = run(tmp_path, engine, {"transform_col_indexes": -1})
    try:
        running.run_ok("onehot_1")
        for role, party_id, data in (("guest", GUEST, guest), ("host", HOST, host)):
            train, test = data.take(np.arange(0, 400)), data.take(np.arange(400, len(data)))
            want = reference(train, train, list(data.header))
            got = running.output(role, party_id, NAME)
            assert list(got.header) == list(want.columns)
            np.testing.assert_array_equal(got.features(), want.to_numpy())
            assert got.ids().tolist() == train.ids().tolist()
            model = running.model(role, party_id, NAME)
            assert model["result_header"] == list(want.columns)
            assert model["col_map"][data.header[0]]["transformed_headers"][0] == f"{data.header[0]}_-2"
            applied = running.output(role, party_id, "onehot_1")
            np.testing.assert_array_equal(
                applied.features(), reference(train, test, list(data.header)).to_numpy()
            )
    finally:
        running.close()


def test_chosen_columns_only_and_unseen_values_give_zeros(tmp_path: Path) -> None:
    params = {"transform_col_indexes": [2], "transform_col_names": ["x0", "absent"]}
    running = harness(tmp_path / "home", dsl("OneHotEncoder", NAME, predict=True), conf(NAME, params), None)
    try:
        guest, host = (integers(d) for d in parties(gaps=False))
        train = Dataset.instances(guest.ids(), np.clip(guest.features(), -1, 1), header=guest.header)
        plant(running, "guest", "data_transform_0", train)
        plant(running, "host", "data_transform_0", host)
        plant(running, "guest", "data_transform_1", guest)
        plant(running, "host", "data_transform_1", host)
        running.run_ok(NAME)
        running.run_ok("onehot_1")
        want = reference(train, guest, ["x2", "x0"])
        got = running.output("guest", GUEST, "onehot_1")
        assert list(got.header) == list(want.columns)
        assert got.header[:3] == ("x0_-1", "x0_0", "x0_1")
        np.testing.assert_array_equal(got.features(), want.to_numpy())
        # Rows whose value (-2 or 2) training never saw have no 1 in that column's group.
        unseen = np.abs(guest.features()[:, 0]) == 2
        assert unseen.any() and (got.features()[unseen, :3] == 0).all()
        assert running.model("guest", GUEST, NAME)["transform_col_names"] == ["x2", "x0"]
    finally:
        running.close()


def test_values_that_are_not_whole_numbers_fail_the_task(tmp_path: Path) -> None:
    running = harness(tmp_path / "home", dsl("OneHotEncoder", NAME), conf(NAME, {}), None)
    try:
        guest, host = parties(gaps=False)
        plant(running, "guest", "data_transform_0", guest)
        plant(running, "host", "data_transform_0", host)
        errors = running.run(NAME)
        assert all(
            isinstance(error, DataFormatError) and "whole numbers" in str(error) for error in errors.values()
        )
    finally:
        running.close()


@pytest.mark.parametrize(
    ("params", "words"),
    [({"transform_col_indexes": 3}, "must be -1"), ({"need_alignment": True}, "need_alignment")],
)
def test_bad_parameters_are_refused_before_running(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ComponentParameterError, match=words):
        OneHotEncoder().check_parameters(params, component=NAME, module="OneHotEncoder")
