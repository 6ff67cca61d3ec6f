"""HomoFeatureBinning against numpy on the union of the guest's and the host's rows.

recursive_query: every split point's rank in the union (values <= it) is within FATE's
``ceil(error·N)`` of its aim ``floor(k/bin_num·n)``, so the points are the union's quantiles within
FATE's error. virtual_summary: the split points equal FATE's formula evaluated by a plain numpy
reference on the union's exact ranks. Both clients get the same points, and the output is each
value's bin.
"""

from __future__ import annotations

import bisect
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.feature.homo_binning import HomoFeatureBinning
from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.errors import ComponentFeatureUnsupported, ComponentParameterError

from .homo_support import ARBITER, GUEST, HOST, conf, dsl, harness, homo_parties, plant

NAME = "homo_binning_0"


def run(tmp_path: Path, engine: Engine | None, params: dict[str, Any], gaps: bool = False) -> Any:
    running = harness(
        tmp_path / "home", dsl("HomoFeatureBinning", NAME, predict=True), conf(NAME, params), engine
    )
    guest, host = homo_parties()
    if gaps:
        features = guest.features().copy()
        features[np.random.default_rng(1).random(features.shape) < 0.05] = np.nan
        guest = Dataset.instances(guest.ids(), features, header=guest.header, labels=guest.labels())
    plant(running, "guest", "data_transform_0", guest)
    plant(running, "host", "data_transform_0", host)
    plant(running, "guest", "data_transform_1", host)
    plant(running, "host", "data_transform_1", guest)
    running.run_ok(NAME)
    return running, guest, host


def union(guest: Dataset, host: Dataset) -> np.ndarray:
    return np.vstack([guest.features(), host.features()])


def virtual_reference(column: np.ndarray, sample_bins: int, bin_num: int) -> list[float]:
    """FATE's virtual summary on exact ranks, written plainly."""
    values = np.sort(column[~np.isnan(column)])
    grid = np.linspace(values.min(), values.max(), sample_bins)
    ranks = [int(np.sum(values <= q)) for q in grid]
    out = []
    for k in range(1, bin_num + 1):
        aim = int((k / bin_num if k < bin_num else 1.0) * len(values))
        i = bisect.bisect_left(ranks, aim)
        if i >= len(ranks) - 1:
            out.append(grid[-1])
        elif ranks[i + 1] == ranks[i]:
            out.append(grid[i])
        else:
            out.append(grid[i] + (grid[i + 1] - grid[i]) * (aim - ranks[i]) / (ranks[i + 1] - ranks[i]))
    return sorted(set(float(v) for v in out))


def test_recursive_query_points_are_union_quantiles_within_fates_error(
    tmp_path: Path, engine: Engine
) -> None:
    error = 0.01
    running, guest, host = run(
        tmp_path, engine, {"method": "recursive_query", "bin_num": 8, "error": error}, gaps=True
    )
    try:
        every = union(guest, host)
        total = len(every)
        allowed = math.ceil(error * total)
        g_model = running.model("guest", GUEST, NAME)
        h_model = running.model("host", HOST, NAME)
        assert g_model["split_points"] == h_model["split_points"]
        for j, name in enumerate(guest.header):
            column = every[:, j]
            present = column[~np.isnan(column)]
            points = g_model["split_points"][name]
            aims = [math.floor(k / 8 * len(present)) for k in range(1, 9)]
            for point in points:
                rank = int(np.sum(present <= point))
                # Each kept point settled near one aim (or was nudged at a value's resolution).
                assert min(abs(rank - aim) for aim in aims) <= allowed or any(
                    abs(point - v) < 1e-6 for v in present
                ), (name, point, rank)
            assert len(points) <= 8
            # The last point is the max (its aim is every value).
            assert points[-1] == pytest.approx(present.max(), abs=1e-6)
        # Output: each value's bin index by those points (numpy searchsorted as the reference).
        out = running.output("guest", GUEST, NAME).features()
        for j, name in enumerate(guest.header):
            points = np.asarray(g_model["split_points"][name])
            want = np.searchsorted(points[:-1], guest.features()[:, j], side="left").astype(float)
            want[np.isnan(guest.features()[:, j])] = len(points)
            np.testing.assert_array_equal(out[:, j], want)
        # The model applied to other rows gives the same bins as binning them directly.
        running.run_ok("homo_binning_1")
        applied = running.output("guest", GUEST, "homo_binning_1").features()
        first = np.asarray(g_model["split_points"][guest.header[0]])
        np.testing.assert_array_equal(
            applied[:, 0], np.searchsorted(first[:-1], host.features()[:, 0], side="left").astype(float)
        )
    finally:
        running.close()


def test_virtual_summary_equals_fates_formula_on_the_union(tmp_path: Path) -> None:
    running, guest, host = run(
        tmp_path, None, {"sample_bins": 1000, "bin_indexes": [0, 2, 4, 6], "bin_names": ["x1"]}
    )
    try:
        every = union(guest, host)
        model = running.model("guest", GUEST, NAME)
        assert model["bin_cols"] == ["x0", "x1", "x2", "x4", "x6"]
        assert running.model("host", HOST, NAME)["split_points"] == model["split_points"]
        for name in model["bin_cols"]:
            j = list(guest.header).index(name)
            want = virtual_reference(every[:, j], 1000, 10)
            np.testing.assert_allclose(model["split_points"][name], want, rtol=0, atol=1e-9)
            # The points are the union's deciles to within the rows of one grid cell: FATE's formula
            # reads them off the ranks of 1000 evenly spaced values.
            present = np.sort(every[:, j])
            grid = np.linspace(present[0], present[-1], 1000)
            widest = int(np.max(np.diff(np.searchsorted(present, grid, side="right"))))
            for k, point in enumerate(model["split_points"][name][:-1]):
                rank = int(np.searchsorted(present, point, side="right"))
                assert abs(rank - int((k + 1) / 10 * len(present))) <= 2 * widest + 1, (name, k)
        assert running.model("arbiter", ARBITER, NAME)["total_count"] == len(every)
    finally:
        running.close()


def test_refusals() -> None:
    component = HomoFeatureBinning()
    with pytest.raises(ComponentFeatureUnsupported) as refused:
        component.check_parameters(
            {"transform_param": {"transform_type": "woe"}}, component="b", module="HomoFeatureBinning"
        )
    assert "woe" in refused.value.message
    with pytest.raises(ComponentFeatureUnsupported, match="category"):
        component.check_parameters({"category_indexes": [1]}, component="b", module="HomoFeatureBinning")
    with pytest.raises(ComponentParameterError, match="max_iter"):
        component.check_parameters({"max_iter": 101}, component="b", module="HomoFeatureBinning")
    with pytest.raises(ComponentParameterError, match="method"):
        component.check_parameters({"method": "quantile"}, component="b", module="HomoFeatureBinning")
