"""FeatureScale on block tables: over many partitions, on the local engine and on Spark, it learns and
scales as the whole-table fit does (scale.fit / scale.apply, the implementation before the port)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from accord.components.feature_scale import model as scale
from accord.components.feature_scale.params import FeatureScaleParam
from accord.components.sdk import Dataset, layout
from accord.components.sdk.dataset import with_meta
from accord.computing.table import Engine

from .harness import ComponentHarness
from .test_feature_scale import DSL, GUEST, HETERO_GUEST, HOST, PREDICT_DSL, breast, conf

ROW_GROUP = 41


def _plant(harness: ComponentHarness, party_id: int, role: str, component: str, data: Dataset) -> None:
    path = layout.data_path(harness.party_dir(role, party_id), component, "data")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = data.table.replace_schema_metadata(with_meta(data.table.schema, data.meta()))
    pq.write_table(table, path, row_group_size=ROW_GROUP)


def _with_gaps(data: Dataset) -> Dataset:
    """Some cells missing (NaN), as DataTransform leaves them without missing_fill."""
    features = data.features().copy()
    rng = np.random.default_rng(3)
    features[rng.random(features.shape) < 0.07] = np.nan
    return Dataset.instances(
        data.ids(), features, header=data.header, labels=data.labels(), label_name=data.label_name
    )


def _assert_model(got: dict[str, Any], expected: scale.ScaleModel) -> None:
    want = expected.to_json()
    got_columns, want_columns = got.pop("col_scale_param"), want.pop("col_scale_param")
    assert got == want and got_columns.keys() == want_columns.keys()
    for name, column in got_columns.items():
        for field, value in column.items():
            if value is None or want_columns[name][field] is None:
                assert value == want_columns[name][field]
            else:
                np.testing.assert_allclose(value, want_columns[name][field], rtol=1e-9, atol=1e-12)


CASES: dict[str, dict[str, Any]] = {
    "min_max_bounded": {"method": "min_max_scale", "feat_upper": 2.5, "feat_lower": -1.0},
    "standard": {"method": "standard_scale"},
    "standard_cap": {"method": "standard_scale", "mode": "cap", "feat_upper": 0.9, "feat_lower": 0.05},
    "some_columns": {"method": "min_max_scale", "scale_col_indexes": [0, 3], "scale_names": ["x7"]},
    "standard_without_std": {"method": "standard_scale", "with_std": False},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_over_partitions_equals_the_whole_table_fit(tmp_path: Path, engine: Engine, case: str) -> None:
    params = CASES[case]
    data = _with_gaps(breast(HETERO_GUEST))
    model = scale.fit(FeatureScaleParam.model_validate(params), data.header, data.features(), "scale_0")
    expected = scale.apply(model, data.header, data.features(), "scale_0")
    running = ComponentHarness(tmp_path / "home", DSL, conf(**params), engine=engine)
    try:
        for party_id, role in ((GUEST, "guest"), (HOST, "host")):
            _plant(running, party_id, role, "data_transform_0", data)
        running.run_ok("scale_0")
        for party_id, role in ((GUEST, "guest"), (HOST, "host")):
            got = running.output(role, party_id, "scale_0")
            assert got.ids().tolist() == data.ids().tolist()
            np.testing.assert_allclose(got.features(), expected, rtol=1e-9, atol=1e-12)
            assert np.array_equal(got.labels(), data.labels())  # type: ignore[arg-type]
            _assert_model(running.model(role, party_id, "scale_0"), model)
    finally:
        running.close()


def test_predict_over_partitions_applies_the_model(tmp_path: Path, engine: Engine) -> None:
    params = CASES["standard"]
    train, test = breast(HETERO_GUEST, slice(0, 300)), breast(HETERO_GUEST, slice(300, None))
    model = scale.fit(FeatureScaleParam.model_validate(params), train.header, train.features(), "scale_0")
    running = ComponentHarness(tmp_path / "home", PREDICT_DSL, conf(**params), engine=engine)
    try:
        for party_id, role in ((GUEST, "guest"), (HOST, "host")):
            _plant(running, party_id, role, "data_transform_0", train)
            _plant(running, party_id, role, "data_transform_1", test)
        running.run_ok("scale_0")
        running.run_ok("scale_1")
        got = running.output("guest", GUEST, "scale_1")
        expected = scale.apply(model, test.header, test.features(), "scale_1")
        np.testing.assert_allclose(got.features(), expected, rtol=1e-9, atol=1e-12)
    finally:
        running.close()
