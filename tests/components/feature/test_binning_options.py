"""HeteroFeatureBinning's other options: FATE's parameter checks, optimal binning (the kept split
points are initial ones and the statistics equal numpy's at them), missing values in a bin of their
own, skip_static, local_only and need_run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.components.feature.hetero_binning import HeteroFeatureBinning
from accord.components.sdk import Dataset
from accord.errors import ComponentParameterError

from .binning_support import GUEST, HOST, conf, parties, reference_bins, reference_woe, run


def _check(params: dict[str, Any]) -> None:
    HeteroFeatureBinning().check_parameters(params, component="binning_0", module="HeteroFeatureBinning")


@pytest.mark.parametrize(
    "params",
    [
        {"method": "optimal", "skip_static": True},
        {"skip_static": True, "transform_param": {"transform_type": "woe"}},
        {"encrypt_param": {"method": "RSA"}},
        {"adjustment_factor": 1.0},
        {"bin_num": 0},
        {"error": 1.5},
        {"bin_indexes": 3},
        {"optimal_binning_param": {"min_bin_pct": 0.5, "max_bin_pct": 0.2}},
        {"optimal_binning_param": {"metric_method": "entropy"}},
        {"transform_param": {"transform_type": "onehot"}},
        {"bin_nums": 10},
    ],
)
def test_fate_checks_refuse(params: dict[str, Any]) -> None:
    with pytest.raises(ComponentParameterError):
        _check(params)


def test_fate_options_accepted() -> None:
    _check(
        {
            "method": "Optimal",
            "compress_thres": 10000,
            "head_size": 10000,
            "error": 0.001,
            "optimal_binning_param": {"metric_method": "chi-square", "init_bucket_method": "Bucket"},
            "bin_indexes": -1,
            "bin_names": None,
            "category_names": None,
            "local_only": False,
            "encrypt_param": {"key_length": 1024},
            "transform_param": {"transform_cols": -1, "transform_names": None, "transform_type": None},
        }
    )


@pytest.mark.parametrize("metric", ["iv", "gini", "chi_square", "ks"])
def test_optimal_keeps_initial_points_with_exact_statistics(tmp_path: Path, metric: str) -> None:
    guest, host = parties("breast")
    params = {
        "method": "optimal",
        "bin_num": 6,
        "optimal_binning_param": {
            "metric_method": metric,
            "init_bin_nums": 40,
            "min_bin_pct": 0.05,
            "max_bin_pct": 0.8,
            "mixture": True,
        },
    }
    harness = run(tmp_path, conf(params), guest, [host])
    try:
        event = (guest.labels() == 1).astype(float)  # type: ignore[union-attr]
        model = harness.model("guest", GUEST, "binning_0")
        quantile = run(tmp_path / "q", conf({"method": "quantile", "bin_num": 40}), guest, [host])
        initial = quantile.model("guest", GUEST, "binning_0")["split_points"]
        initial_host = quantile.model("host", HOST, "binning_0")["split_points"]
        quantile.close()
        for k, name in enumerate(guest.header):
            points = model["results"][name]["split_points"]
            assert set(points) <= set(initial[name]) and points[-1] == initial[name][-1]
            want = reference_woe(guest.features()[:, k], event, points, 0.5)
            np.testing.assert_allclose(model["results"][name]["woe"], want["woe"], atol=1e-9)
        host_model = harness.model("host", HOST, "binning_0")
        for k, name in enumerate(host.header):
            points = host_model["split_points"][name]
            assert set(points) <= set(initial_host[name]) and points[-1] == initial_host[name][-1]
            got = model["host_results"][str(HOST)][f"host_{HOST}_{k}"]
            assert len(got["woe"]) == len(points)
            want = reference_woe(host.features()[:, k], event, points, 0.5)
            np.testing.assert_allclose(got["woe"], want["woe"], atol=1e-9)
            assert got["count"] == host_model["results"][name]["count"]
    finally:
        harness.close()


def _with_gaps(data: Dataset, seed: int) -> Dataset:
    features = data.features().copy()
    features[np.random.default_rng(seed).random(features.shape) < 0.1] = np.nan
    return Dataset.instances(
        data.ids(), features, header=data.header, labels=data.labels(), label_name=data.label_name
    )


def test_missing_values_get_their_own_bin(tmp_path: Path) -> None:
    guest, host = parties("breast")
    guest, host = _with_gaps(guest, 1), _with_gaps(host, 2)
    harness = run(tmp_path, conf({"method": "quantile"}), guest, [host])
    try:
        event = (guest.labels() == 1).astype(float)  # type: ignore[union-attr]
        model = harness.model("guest", GUEST, "binning_0")
        column = guest.features()[:, 2]
        result = model["results"]["x2"]
        assert len(result["woe"]) == len(result["split_points"]) + 1
        want = reference_woe(column, event, result["split_points"], 0.5)
        np.testing.assert_allclose(result["woe"], want["woe"], atol=1e-9)
        out = harness.output("guest", GUEST, "binning_0").features()[:, 2]
        np.testing.assert_array_equal(out, reference_bins(column, result["split_points"]))
        host_points = harness.model("host", HOST, "binning_0")["split_points"]["x5"]
        got = model["host_results"][str(HOST)][f"host_{HOST}_5"]
        np.testing.assert_allclose(
            got["woe"], reference_woe(host.features()[:, 5], event, host_points, 0.5)["woe"], atol=1e-9
        )
    finally:
        harness.close()


def test_skip_static_local_only_and_need_run(tmp_path: Path) -> None:
    guest, host = parties("breast")
    harness = run(tmp_path / "skip", conf({"skip_static": True}), guest, [host])
    try:
        model = harness.model("guest", GUEST, "binning_0")
        assert "iv" not in model["results"].get("x0", {}) and "host_results" not in model
        assert harness.model("host", HOST, "binning_0")["results"]["x0"]["count"]
    finally:
        harness.close()
    harness = run(tmp_path / "local", conf({"local_only": True}), guest, [host])
    try:
        assert "host_results" not in harness.model("guest", GUEST, "binning_0")
        assert harness.model("guest", GUEST, "binning_0")["results"]["x0"]["iv"] > 0
        np.testing.assert_array_equal(harness.output("host", HOST, "binning_0").features(), host.features())
    finally:
        harness.close()
    harness = run(tmp_path / "off", conf({"need_run": False}), guest, [host])
    try:
        np.testing.assert_array_equal(
            harness.output("guest", GUEST, "binning_0").features(), guest.features()
        )
    finally:
        harness.close()


def test_woe_on_the_host_is_refused(tmp_path: Path) -> None:
    guest, host = parties("breast", slice(0, 100))
    job = conf({"transform_param": {"transform_type": "woe"}})
    with pytest.raises(AssertionError, match="host cannot transform to WOE"):
        harness = run(tmp_path, job, guest, [host])
        harness.close()
