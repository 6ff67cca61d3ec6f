"""DataTransform on block tables: over many partitions, on the local engine and on Spark, it gives what
the whole-table parse gives (the implementation before the port, still used by online serving)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from accord.components.data_transform.component import (
    _settings,
    fit_passes,
    predict_passes,
    read,
    to_dataset,
)
from accord.components.data_transform.model import TransformModel
from accord.components.data_transform.params import DataTransformParam
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine
from tests.components.harness import ComponentHarness
from tests.components.transform_support import GUEST, HOST, raw_from_lines, transform_job

ROW_GROUP = 37


def _lines(rows: int, seed: int, labels: tuple[str, ...]) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = ["id,y,x0,x1,x2"]
    for i in range(rows):
        cells = [f"{v:.6f}" for v in rng.normal(size=3)]
        pick = rng.random(3)
        cells = [
            "" if p < 0.05 else ("NA" if p < 0.08 else ("-999" if p < 0.12 else c))
            for p, c in zip(pick, cells, strict=True)
        ]
        lines.append(",".join([f"r{i}", labels[int(rng.integers(len(labels)))], *cells]))
    return lines


def _sparse_lines(rows: int, seed: int, tagged: bool) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(rows):
        # Later rows reach further columns: a partition alone would learn a shorter header.
        width = 3 + i // 40
        picked = sorted(set(rng.integers(0, width, size=3).tolist()))
        if tagged:
            fields = [f"t{c}:{'NA' if rng.random() < 0.1 else rng.integers(9)}" for c in picked]
        else:
            fields = [f"{c}:{rng.normal():.5f}" for c in picked]
        # The upload cuts the id off at the comma; DataTransform cuts the rest at the spaces.
        lines.append(f"s{i}," + " ".join([str(int(rng.integers(2))), *fields]))
    return lines


def _plant_in_row_groups(harness: ComponentHarness, role: str, party_id: int, raw: Dataset) -> None:
    """The Reader's output as a Reader on an engine writes it: many row groups, so many partitions."""
    path = layout.data_path(harness.party_dir(role, party_id), "reader_0", "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = raw.table.replace_schema_metadata(with_meta(raw.table.schema, raw.meta()))
    pq.write_table(table, path, row_group_size=ROW_GROUP)


def _whole_table(raw: Dataset, params: dict[str, Any]) -> tuple[Dataset, TransformModel]:
    """DataTransform's fit as it ran before the port: the whole table parsed at once."""
    parsed_params = DataTransformParam.model_validate(params)
    settings = _settings(parsed_params, raw.extra)
    parsed = read(raw, settings, fit_passes(parsed_params))
    model = TransformModel(
        settings=settings.model_copy(update={"match_id_name": parsed.match_id_name or ""}),
        header=parsed.header,
        sid_name=raw.sid_name,
        label_name=parsed.label_name,
        label_mapping=parsed.label_mapping,
        missing=parsed.missing,
        outlier=parsed.outlier,
    )
    return to_dataset(parsed, raw, settings), model


def _assert_same(got: Dataset, expected: Dataset) -> None:
    assert got.ids().tolist() == expected.ids().tolist()
    assert (got.header, got.label_name, dict(got.extra)) == (
        expected.header,
        expected.label_name,
        dict(expected.extra),
    )
    np.testing.assert_allclose(got.features(), expected.features(), rtol=1e-9, atol=1e-9)
    got_labels, expected_labels = got.labels(), expected.labels()
    assert (got_labels is None) == (expected_labels is None)
    if got_labels is not None and expected_labels is not None:
        assert np.array_equal(got_labels, expected_labels)


def _assert_same_model(got: dict[str, Any], expected: TransformModel) -> None:
    want = expected.to_json()
    for section in ("missing", "outlier"):
        fills, wanted = got[section].pop("fill"), want[section].pop("fill")
        assert fills.keys() == wanted.keys()
        for name, text in fills.items():
            np.testing.assert_allclose(float(text), float(wanted[name]), rtol=1e-9)
    assert got == want


CASES: dict[str, tuple[Callable[[], Dataset], dict[str, Any]]] = {
    "dense": (
        lambda: raw_from_lines(_lines(300, 1, ("b", "a", "c"))),
        {
            "with_label": True,
            "label_type": "str",
            "missing_fill": True,
            "missing_fill_method": "mean",
            "missing_impute": ["", "NA"],
            "outlier_replace": True,
            "outlier_replace_method": "max",
            "outlier_impute": [-999],
        },
    ),
    "dense_min_designated": (
        lambda: raw_from_lines(_lines(200, 2, ("0", "1"))),
        {
            "with_label": True,
            "label_type": "int",
            "missing_fill": True,
            "missing_fill_method": "min",
            "outlier_replace": True,
            "outlier_replace_method": "designated",
            "outlier_impute": [-999],
            "outlier_replace_value": 7,
        },
    ),
    "tag_with_value": (
        lambda: raw_from_lines(_sparse_lines(240, 3, True), head=False),
        {
            "input_format": "tag",
            "delimitor": " ",
            "tag_with_value": True,
            "tag_value_delimitor": ":",
            "with_label": True,
            "missing_fill": True,
            "missing_fill_method": "mean",
            "missing_impute": ["", "NA"],
        },
    ),
    "svmlight": (
        lambda: raw_from_lines(_sparse_lines(240, 4, False), head=False),
        {"input_format": "sparse", "delimitor": " ", "with_label": True, "label_type": "int"},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_over_partitions_equals_the_whole_table_fit(tmp_path: Path, engine: Engine, case: str) -> None:
    make_raw, params = CASES[case]
    raw = make_raw()
    expected, expected_model = _whole_table(raw, params)
    dsl, conf = transform_job(params, params)
    running = ComponentHarness(tmp_path / "home", dsl, conf, engine=engine)
    try:
        for role, party_id in (GUEST, HOST):
            _plant_in_row_groups(running, role, party_id, raw)
        running.run_ok("data_transform_0")
        for role, party_id in (GUEST, HOST):
            _assert_same(running.output(role, party_id, "data_transform_0"), expected)
            _assert_same_model(running.model(role, party_id, "data_transform_0"), expected_model)
    finally:
        running.close()


def test_predict_over_partitions_numbers_unseen_labels_as_the_whole_table(
    tmp_path: Path, engine: Engine
) -> None:
    params = CASES["dense"][1]
    train = raw_from_lines(_lines(150, 5, ("b", "a")))
    test = raw_from_lines(_lines(300, 6, ("b", "e", "a", "d")))
    _, model = _whole_table(train, params)
    settings = model.settings
    assert settings is not None
    parsed = read(
        test, settings, predict_passes(model), header=model.header, label_mapping=model.label_mapping
    )
    expected = to_dataset(parsed, test, settings)
    dsl, conf = transform_job(params, params, with_predict=True)
    running = ComponentHarness(tmp_path / "home", dsl, conf, engine=engine)
    try:
        for role, party_id in (GUEST, HOST):
            train.save(layout.data_path(running.party_dir(role, party_id), "reader_0", "data"))
            path = layout.data_path(running.party_dir(role, party_id), "reader_1", "data")
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(
                test.table.replace_schema_metadata(with_meta(test.table.schema, test.meta())),
                path,
                row_group_size=ROW_GROUP,
            )
        running.run_ok("data_transform_0")
        running.run_ok("data_transform_1")
        got = running.output(*GUEST, "data_transform_1")
        _assert_same(got, expected)
        assert got.extra["label_mapping"] == {"a": 0, "b": 1, "d": 2, "e": 3}
    finally:
        running.close()


def test_a_planted_input_has_a_partition_per_row_group(tmp_path: Path, local_engine: Engine) -> None:
    params = CASES["dense"][1]
    dsl, conf = transform_job(params, params)
    running = ComponentHarness(tmp_path / "home", dsl, conf, engine=local_engine)
    try:
        _plant_in_row_groups(running, *GUEST, CASES["dense"][0]())
        path = layout.data_path(running.party_dir(*GUEST), "reader_0", "data")
        assert local_engine.read_parquet(str(path)).partitions == -(-300 // ROW_GROUP)
    finally:
        running.close()
