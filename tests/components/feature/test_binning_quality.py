"""HeteroFeatureBinning against plain numpy references on FATE's breast and default_credit data.

Split points: quantiles within FATE's error, equal-width buckets; WOE / IV of guest and host columns
equal a bin-by-bin numpy computation on the joined rows at the same split points (to 1e-9); the
output rows are the bin indexes (or WOE) of the reference; multi-class is one-vs-rest per label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accord.computing.table import Engine

from .binning_support import (
    GUEST,
    HOST,
    HOST2,
    assert_quantiles,
    conf,
    parties,
    reference_bins,
    reference_woe,
    run,
)


def _check_statistics(
    result: dict[str, Any], values: np.ndarray, event: np.ndarray, points: list[float]
) -> None:
    want = reference_woe(values, event, points, 0.5)
    assert result["event_count"] == want["event_count"]
    assert result["non_event_count"] == want["non_event_count"]
    np.testing.assert_allclose(result["woe"], want["woe"], rtol=0, atol=1e-9)
    assert abs(result["iv"] - want["iv"]) <= 1e-9


def _host_points(harness: Any, party_id: int) -> dict[str, list[float]]:
    model = harness.model("host", party_id, "binning_0")
    return {model["anonymous"][name]: res["split_points"] for name, res in model["results"].items()}


@pytest.mark.parametrize("prefix", ["breast", "default_credit"])
def test_quantile_points_and_woe_equal_numpy(tmp_path: Path, engine: Engine, prefix: str) -> None:
    guest, host = parties(prefix)
    harness = run(tmp_path, conf({"method": "quantile", "bin_num": 10}), guest, [host], engine=engine)
    try:
        event = (guest.labels() == 1).astype(float)  # type: ignore[union-attr]
        model = harness.model("guest", GUEST, "binning_0")
        for k, name in enumerate(guest.header):
            result = model["results"][name]
            assert_quantiles(guest.features()[:, k], result["split_points"], 10, 0.001)
            _check_statistics(result, guest.features()[:, k], event, result["split_points"])
        hidden = _host_points(harness, HOST)
        host_results = model["host_results"][str(HOST)]
        assert set(host_results) == {f"host_{HOST}_{k}" for k in range(len(host.header))}
        for k in range(len(host.header)):
            anonymous = f"host_{HOST}_{k}"
            assert "split_points" not in host_results[anonymous]
            assert_quantiles(host.features()[:, k], hidden[anonymous], 10, 0.001)
            _check_statistics(host_results[anonymous], host.features()[:, k], event, hidden[anonymous])
        # Output rows: the bin index of every value (guest and host), ids and labels kept.
        for role, party_id, data in (("guest", GUEST, guest), ("host", HOST, host)):
            out = harness.output(role, party_id, "binning_0")
            assert out.ids().tolist() == data.ids().tolist()
            points = harness.model(role, party_id, "binning_0")["split_points"]
            want = np.stack(
                [reference_bins(data.features()[:, k], points[n]) for k, n in enumerate(data.header)], 1
            )
            np.testing.assert_array_equal(out.features(), want)
    finally:
        harness.close()


def test_bucket_is_equal_width_and_woe_transform(tmp_path: Path) -> None:
    guest, host = parties("breast")
    job = conf(
        {"method": "bucket", "bin_num": 8},
        guest={"transform_param": {"transform_type": "woe"}},
        host={"transform_param": {"transform_type": None}},
    )
    harness = run(tmp_path, job, guest, [host])
    try:
        event = (guest.labels() == 1).astype(float)  # type: ignore[union-attr]
        model = harness.model("guest", GUEST, "binning_0")
        woe_rows = []
        for k, name in enumerate(guest.header):
            column = guest.features()[:, k]
            points = model["results"][name]["split_points"]
            np.testing.assert_allclose(
                points, np.linspace(column.min(), column.max(), 9)[1:], rtol=0, atol=1e-12
            )
            _check_statistics(model["results"][name], column, event, points)
            woe = reference_woe(column, event, points, 0.5)["woe"]
            woe_rows.append([woe[int(b)] for b in reference_bins(column, points)])
        np.testing.assert_allclose(
            harness.output("guest", GUEST, "binning_0").features(), np.array(woe_rows).T, atol=1e-12
        )
        # transform_type null: the host's rows leave unchanged.
        np.testing.assert_array_equal(harness.output("host", HOST, "binning_0").features(), host.features())
    finally:
        harness.close()


def test_multiclass_is_one_vs_rest_per_label(tmp_path: Path) -> None:
    guest, host = parties("vehicle_scale")
    harness = run(tmp_path, conf({"method": "quantile", "bin_num": 6}), guest, [host])
    try:
        labels = guest.labels()
        assert labels is not None
        model = harness.model("guest", GUEST, "binning_0")
        assert model["labels"] == [0, 1, 2, 3]
        hidden = _host_points(harness, HOST)
        for label in (0, 1, 2, 3):
            event = (labels == label).astype(float)
            own = model["results_by_label"][str(label)]
            for k, name in enumerate(guest.header):
                _check_statistics(own[name], guest.features()[:, k], event, own[name]["split_points"])
            theirs = model["host_results_by_label"][str(HOST)][str(label)]
            for k in range(len(host.header)):
                anonymous = f"host_{HOST}_{k}"
                _check_statistics(theirs[anonymous], host.features()[:, k], event, hidden[anonymous])
    finally:
        harness.close()


def test_two_hosts_custom_points_categories_and_predict(tmp_path: Path) -> None:
    guest, host = parties("breast", slice(0, 400))
    test_guest, test_host = parties("breast", slice(400, None))
    custom = {"x0": [-0.5, 0.0, 0.5, 5.0], "x1": [0.0, 9.0]}
    job = conf(
        {"method": "quantile", "bin_num": 5},
        guest={
            "bin_indexes": [0, 1, 4],
            "category_indexes": [4],
            "split_points_by_col_name": custom,
            "transform_param": {"transform_cols": [0, 4], "transform_type": "woe"},
        },
        hosts=(HOST, HOST2),
    )
    harness = run(tmp_path, job, guest, [host, host], predict=(test_guest, [test_host, test_host]))
    try:
        event = (guest.labels() == 1).astype(float)  # type: ignore[union-attr]
        model = harness.model("guest", GUEST, "binning_0")
        assert set(model["results"]) == {"x0", "x1", "x4"} and model["category_cols"] == ["x4"]
        assert model["results"]["x0"]["split_points"] == custom["x0"]
        assert model["results"]["x4"]["split_points"] == sorted(set(guest.features()[:, 4].tolist()))
        for k, name in ((0, "x0"), (1, "x1"), (4, "x4")):
            _check_statistics(
                model["results"][name], guest.features()[:, k], event, model["results"][name]["split_points"]
            )
        first, second = model["host_results"][str(HOST)], model["host_results"][str(HOST2)]
        assert [n.replace(str(HOST), "") for n in first] == [n.replace(str(HOST2), "") for n in second]
        assert [r["iv"] for r in first.values()] == pytest.approx(
            [r["iv"] for r in second.values()], abs=1e-12
        )
        # Predict: the trained WOE of x0 / x4 on other rows, other columns as they were.
        out = harness.output("guest", GUEST, "binning_1").features()
        for k, name in ((0, "x0"), (4, "x4")):
            res = model["results"][name]
            want = [
                res["woe"][int(b)] for b in reference_bins(test_guest.features()[:, k], res["split_points"])
            ]
            np.testing.assert_allclose(out[:, k], want, atol=1e-12)
        np.testing.assert_array_equal(out[:, [1, 2, 3]], test_guest.features()[:, [1, 2, 3]])
        host_points = harness.model("host", HOST, "binning_0")["split_points"]
        host_out = harness.output("host", HOST, "binning_1").features()
        np.testing.assert_array_equal(
            host_out[:, 3], reference_bins(test_host.features()[:, 3], host_points["x3"])
        )
    finally:
        harness.close()
