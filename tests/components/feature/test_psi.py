"""PSI against a plain numpy computation: quantile split points of the expected table (the value of
rank ceil(k/bins * n) of its sorted values, distinct), bins by ``searchsorted``, missing values in a
bin of their own, and per bin (a - e) * ln(a / e) with empty shares taken as 1e-6."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.sdk import Dataset
from accord.components.sdk.context import validate_parameters
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported

from ..harness import ComponentHarness
from ..test_feature_scale import HOMO_GUEST, HOMO_HOST, breast

GUEST, HOST = 9999, 10000
DSL: dict[str, Any] = {
    "components": {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        "data_transform_1": {"module": "DataTransform", "output": {"data": ["data"]}},
        "psi_0": {
            "module": "PSI",
            "input": {
                "data": {"train_data": ["data_transform_0.data"], "validate_data": ["data_transform_1.data"]}
            },
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
}


def conf(**psi: Any) -> dict[str, Any]:
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": [HOST]},
        "component_parameters": {"common": {"psi_0": psi}},
    }


def plain_psi(expected: np.ndarray, actual: np.ndarray, bins: int) -> tuple[float, list[float]]:
    present = np.sort(expected[~np.isnan(expected)])
    n = len(present)
    # The rank in floating point, as FATE computes it (ceil of 0.05 * 220 is 12, not 11).
    points = np.unique([present[math.ceil((k / bins) * n) - 1] for k in range(1, bins + 1)])

    def shares(values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        found = np.searchsorted(points[:-1], values[~missing], side="left")
        counts = np.append(np.bincount(found, minlength=len(points)), missing.sum())
        share = counts / len(values)
        return np.where(share == 0, 1e-6, share)

    e, a = shares(expected), shares(actual)
    per_bin = (a - e) * np.log(a / e)
    return float(per_bin.sum()), [float(p) for p in points]


def with_gaps(data: Dataset, seed: int) -> Dataset:
    features = data.features().copy()
    features[np.random.default_rng(seed).random(features.shape) < 0.05] = np.nan
    return Dataset.instances(data.ids(), features, header=data.header, labels=data.labels(), label_name="y")


@pytest.mark.parametrize("bins", [20, 7])
def test_psi_equals_plain_numpy(tmp_path: Path, engine: Engine, bins: int) -> None:
    expected, actual = with_gaps(breast(HOMO_GUEST), 1), with_gaps(breast(HOMO_HOST), 2)
    harness = ComponentHarness(tmp_path, DSL, conf(max_bin_num=bins), engine=engine)
    try:
        for role, party_id in (("guest", GUEST), ("host", HOST)):
            harness.plant(role, party_id, "data_transform_0", expected)
            harness.plant(role, party_id, "data_transform_1", actual)
        harness.run_ok("psi_0")
        model = harness.model("guest", GUEST, "psi_0")
    finally:
        harness.close()
    assert model["module"] == "PSI" and model["header"] == list(expected.header)
    for k, name in enumerate(expected.header):
        total, points = plain_psi(expected.features()[:, k], actual.features()[:, k], bins)
        assert model["psi"][name] == pytest.approx(total, abs=1e-9)
        np.testing.assert_array_equal(model["split_points"][name], points)
        detail = model["feature_psi"][name]
        assert len(detail["psi"]) == len(points) + 1 and detail["interval"][-1] == "missing"
        assert sum(detail["psi"]) == pytest.approx(total, abs=1e-5)


def test_dense_missing_val_is_refused_at_submit() -> None:
    from accord.components.feature.psi import PSI

    with pytest.raises(ComponentFeatureUnsupported, match="dense_missing_val"):
        PSI().check_parameters({"dense_missing_val": -999}, component="psi_0", module="PSI")
    validate_parameters(PSI.params, {"max_bin_num": 20}, component="psi_0", module="PSI")
