"""HeteroFeatureSelection on FATE's breast and default_credit data, against plain numpy / pandas rules.

The isometric models are built here from the same rows (IV by plain quantile binning, statistics by
pandas) in the agreed layouts; each filter's kept columns must equal the same rule applied by hand.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from accord.components.feature.selection import HeteroFeatureSelection
from accord.computing.table import Engine
from accord.errors import ComponentParameterError

from .selection_support import (
    GUEST,
    HOST,
    HOST_2,
    binning_models,
    dataset,
    features,
    harness,
    kept,
    parties,
    plant_model,
    statistic_model,
    statistics,
)


def _setup(tmp_path: Path, stem: str, common: dict[str, Any], iso: list[str], **kw: Any) -> Any:
    guest, host = parties(stem)
    running = harness(tmp_path / "home", common, iso, **kw)
    running.plant("guest", GUEST, "data_transform_0", dataset(guest))
    running.plant("host", HOST, "data_transform_0", dataset(host))
    guest_bin, host_bins = binning_models(guest, {HOST: host})
    plant_model(running, "guest", GUEST, "binning_0", guest_bin)
    plant_model(running, "host", HOST, "binning_0", host_bins[HOST])
    plant_model(running, "guest", GUEST, "statistic_0", statistic_model(guest))
    plant_model(running, "host", HOST, "statistic_0", statistic_model(host))
    return running, guest, host, guest_bin


def _host_iv(guest_bin: dict[str, Any], host: pd.DataFrame, party: int = HOST) -> dict[str, float]:
    anonymous = guest_bin["host_results"][str(party)]
    return {c: anonymous[f"host_{party}_{i}"]["iv"] for i, c in enumerate(features(host))}


def _top(values: dict[Any, float], k: int) -> set[Any]:
    return set(pd.Series(values).sort_values(ascending=False, kind="stable").index[:k])


def test_iv_threshold_keeps_each_partys_columns_at_or_above_it(tmp_path: Path, engine: Engine) -> None:
    common = {"filter_methods": ["iv_filter"], "iv_param": {"metrics": "iv", "threshold": 0.1}}
    running, _, host, guest_bin = _setup(tmp_path, "breast_hetero", common, ["binning_0"], engine=engine)
    try:
        running.run_ok("selection_0")
        want_guest = [c for c, v in guest_bin["results"].items() if v["iv"] >= 0.1]
        want_host = [c for c, v in _host_iv(guest_bin, host).items() if v >= 0.1]
        assert kept(running, "guest", GUEST) == want_guest
        assert kept(running, "host", HOST) == want_host
        out = running.output("host", HOST, "selection_0")
        np.testing.assert_array_equal(out.features(), host[want_host].to_numpy(float))
        assert out.ids().tolist() == host["id"].astype(str).tolist()
        # The host learns which of its columns are kept, never an IV.
        host_model = running.model("host", HOST, "selection_0")
        assert host_model["results"][0]["feature_values"] == {}
        assert host_model["left_cols"] == want_host
        guest_model = running.model("guest", GUEST, "selection_0")
        assert guest_model["results"][0]["filter_name"] == "iv_threshold"
        assert set(guest_model["results"][0]["host_feature_values"][0]) == {
            f"host_{HOST}_{i}" for i in range(len(features(host)))
        }
    finally:
        running.close()


def test_iv_top_k_and_percentile_rank_guest_and_host_columns_together(tmp_path: Path) -> None:
    common = {
        "filter_methods": ["iv_filter"],
        "iv_param": {
            "metrics": ["iv", "iv"],
            "filter_type": ["top_k", "top_percentile"],
            "threshold": [12, 0.5],
        },
    }
    running, guest, host, guest_bin = _setup(tmp_path, "default_credit_hetero", common, ["binning_0"])
    try:
        running.run_ok("selection_0")
        union = {("g", c): v["iv"] for c, v in guest_bin["results"].items()}
        union |= {("h", c): v for c, v in _host_iv(guest_bin, host).items()}
        first = _top(union, 12)
        second = _top({k: union[k] for k in first}, math.ceil(0.5 * 12))
        assert kept(running, "guest", GUEST) == [c for c in features(guest) if ("g", c) in second]
        assert kept(running, "host", HOST) == [c for c in features(host) if ("h", c) in second]
    finally:
        running.close()


def test_statistic_filters_in_order_from_the_model_and_from_the_rows(tmp_path: Path) -> None:
    common = {
        "filter_methods": ["statistic_filter"],
        "statistic_param": {
            "metrics": ["kurtosis", "coefficient_of_variance", "stddev", "95%"],
            "take_high": [False, True, True, False],
            "threshold": [2, 0.3, 0.001, 2.0],
        },
    }
    guest, host = parties("default_credit_hetero")

    def expected(table: pd.DataFrame) -> list[str]:
        stats = statistics(table)
        left = features(table)
        left = [c for c in left if stats["kurtosis"][c] <= 2] or [
            min(left, key=lambda c: stats["kurtosis"][c])
        ]
        left = [c for c in left if stats["coefficient_of_variance"][c] >= 0.3] or left[:1]
        left = [c for c in left if stats["stddev"][c] >= 0.001] or left[:1]
        return [c for c in left if stats["95%"][c] <= 2.0] or left[:1]

    for iso in (["statistic_0"], []):  # with the DataStatistics model, then computed from the rows
        running, *_ = _setup(tmp_path / str(len(iso)), "default_credit_hetero", common, iso)
        try:
            running.run_ok("selection_0")
            assert kept(running, "guest", GUEST) == expected(guest)
            assert kept(running, "host", HOST) == expected(host)
        finally:
            running.close()


def test_legacy_filters_in_order_as_in_fates_selection_example(tmp_path: Path) -> None:
    # hetero_feature_selection_selection_conf.json's filters, on the breast data.
    common = {
        "filter_methods": [
            "manually",
            "unique_value",
            "iv_value_thres",
            "coefficient_of_variation_value_thres",
            "iv_percentile",
            "outlier_cols",
        ],
        "unique_param": {"eps": 1e-6},
        "iv_value_param": {"value_threshold": 0.1},
        "iv_percentile_param": {"percentile_threshold": 0.9},
        "variance_coe_param": {"value_threshold": 0.3},
        "outlier_param": {"percentile": 0.95, "upper_threshold": 2.0},
        "manually_param": {"filter_out_indexes": [1], "filter_out_names": ["x3"]},
    }
    running, guest, host, guest_bin = _setup(tmp_path, "breast_hetero", common, ["binning_0", "statistic_0"])
    try:
        running.run_ok("selection_0")
        gs, hs = statistics(guest), statistics(host)
        g_iv = {c: v["iv"] for c, v in guest_bin["results"].items()}
        h_iv = _host_iv(guest_bin, host)
        g = [c for i, c in enumerate(features(guest)) if i != 1 and c != "x3"]
        h = [c for i, c in enumerate(features(host)) if i != 1 and c != "x3"]
        g, h = [c for c in g if gs["stddev"][c] >= 1e-6], [c for c in h if hs["stddev"][c] >= 1e-6]
        g, h = [c for c in g if g_iv[c] >= 0.1], [c for c in h if h_iv[c] >= 0.1]
        g = [c for c in g if gs["coefficient_of_variance"][c] >= 0.3]
        h = [c for c in h if hs["coefficient_of_variance"][c] >= 0.3]
        union = {("g", c): g_iv[c] for c in g} | {("h", c): h_iv[c] for c in h}
        top = _top(union, math.ceil(0.9 * len(union)))
        g, h = [c for c in g if ("g", c) in top], [c for c in h if ("h", c) in top]
        g, h = [c for c in g if gs["95%"][c] <= 2.0], [c for c in h if hs["95%"][c] <= 2.0]
        assert g and h
        assert kept(running, "guest", GUEST) == g
        assert kept(running, "host", HOST) == h
    finally:
        running.close()


def test_percentage_value_drops_columns_one_value_fills(tmp_path: Path) -> None:
    common = {"filter_methods": ["percentage_value"], "percentage_value_param": {"upper_pct": 0.3}}
    running, guest, host, _ = _setup(tmp_path, "default_credit_hetero", common, [])
    try:
        running.run_ok("selection_0")
        for role, party, table in (("guest", GUEST, guest), ("host", HOST, host)):
            limit = math.ceil(len(table) * 0.3)
            want = [c for c in features(table) if table[c].round(8).value_counts().max() <= limit]
            assert kept(running, role, party) == want
            assert len(want) < len(features(table))
    finally:
        running.close()


def test_manually_with_anonymous_names_and_left_columns(tmp_path: Path) -> None:
    running, *_ = _setup(
        tmp_path,
        "breast_hetero",
        {"filter_methods": ["manually"], "select_col_indexes": -1},
        [],
        host={
            "use_anonymous": True,
            "manually_param": {"left_col_names": [f"host_{HOST}_x3", f"host_{HOST}_5"]},
        },
        guest={"manually_param": {"left_col_indexes": [0, 1, 2], "left_col_names": ["x3"]}},
    )
    try:
        running.run_ok("selection_0")
        assert kept(running, "guest", GUEST) == ["x0", "x1", "x2", "x3"]
        assert kept(running, "host", HOST) == ["x3", "x5"]
    finally:
        running.close()


def test_unselected_columns_pass_and_predict_applies_the_model(tmp_path: Path) -> None:
    common = {
        "select_col_indexes": [0, 1, 2, 3],
        "filter_methods": ["iv_filter"],
        "iv_param": {"filter_type": "top_k", "threshold": 2, "select_federated": False},
    }
    running, guest, host, guest_bin = _setup(tmp_path, "breast_hetero", common, ["binning_0"], predict=True)
    try:
        running.plant("guest", GUEST, "data_transform_1", dataset(guest.iloc[:50]))
        running.plant("host", HOST, "data_transform_1", dataset(host.iloc[:50]))
        running.run_ok("selection_0")
        g_iv = {c: guest_bin["results"][c]["iv"] for c in features(guest)[:4]}
        top = _top(g_iv, 2)
        want = [c for i, c in enumerate(features(guest)) if i >= 4 or c in top]
        assert kept(running, "guest", GUEST) == want
        assert kept(running, "host", HOST) == features(host)  # not federated: the host keeps all
        running.run_ok("selection_1")
        got = running.output("guest", GUEST, "selection_1")
        np.testing.assert_array_equal(got.features(), guest.iloc[:50][want].to_numpy(float))
    finally:
        running.close()


def test_two_hosts_with_their_own_thresholds(tmp_path: Path) -> None:
    guest, host = parties("breast_hetero")
    common = {
        "filter_methods": ["iv_filter"],
        "iv_param": {"threshold": 0.5, "host_thresholds": [[0.2, 1.0]]},
    }
    running = harness(tmp_path / "home", common, ["binning_0"], hosts=(HOST, HOST_2))
    try:
        running.plant("guest", GUEST, "data_transform_0", dataset(guest))
        for party in (HOST, HOST_2):
            running.plant("host", party, "data_transform_0", dataset(host))
        guest_bin, host_bins = binning_models(guest, {HOST: host, HOST_2: host})
        plant_model(running, "guest", GUEST, "binning_0", guest_bin)
        for party, model in host_bins.items():
            plant_model(running, "host", party, "binning_0", model)
        running.run_ok("selection_0")
        assert kept(running, "host", HOST) == [c for c, v in _host_iv(guest_bin, host).items() if v >= 0.2]
        assert kept(running, "host", HOST_2) == [
            c for c, v in _host_iv(guest_bin, host, HOST_2).items() if v >= 1.0
        ]
        assert kept(running, "guest", GUEST) == [c for c, v in guest_bin["results"].items() if v["iv"] >= 0.5]
    finally:
        running.close()


def test_multiclass_iv_merges_the_labels(tmp_path: Path) -> None:
    from accord.components.feature.selection import metrics

    model = {
        "results_by_label": {
            "0": {"a": {"iv": 0.1}, "b": {"iv": 0.6}},
            "1": {"a": {"iv": 0.5}, "b": {"iv": 0.2}},
        }
    }
    assert metrics.guest_iv(model, "average") == pytest.approx({"a": 0.3, "b": 0.4})
    assert metrics.guest_iv(model, "max") == {"a": 0.5, "b": 0.6}
    assert metrics.guest_iv(model, "min") == {"a": 0.1, "b": 0.2}


def _sbt_model(module: str, importance: dict[str, Any], kind: str = "split") -> dict[str, Any]:
    # The parts of a SecureBoost model the SBT filters read (as the boosting modules save them).
    return {
        "meta": {"module": module},
        "param": {"feature_importance": importance, "feature_importance_type": kind},
    }


def test_hetero_sbt_filter_ranks_guest_and_host_columns_by_feature_importance(tmp_path: Path) -> None:
    common = {
        "filter_methods": ["hetero_sbt_filter"],
        "sbt_param": {"metrics": "feature_importance", "filter_type": "top_k", "threshold": 5},
    }
    running, guest, host, _ = _setup(tmp_path, "breast_hetero", common, ["sbt_0"])
    guest_cols, host_cols = features(guest), features(host)
    # Gain importance of a few columns each (columns no tree split on count 0, as in FATE).
    gains = {guest_cols[0]: 9.0, guest_cols[3]: 2.0, guest_cols[5]: 0.5}
    gains |= {f"host_{HOST}_{i}": v for i, v in ((1, 7.0), (4, 3.0), (6, 1.0), (8, 0.1))}
    importance = {name: {"split": 1.0, "gain": gain} for name, gain in gains.items()}
    plant_model(running, "guest", GUEST, "sbt_0", _sbt_model("HeteroSecureBoost", importance, "gain"))
    plant_model(running, "host", HOST, "sbt_0", _sbt_model("HeteroSecureBoost", {}))
    try:
        running.run_ok("selection_0")
        top = _top(gains, 5)
        assert kept(running, "guest", GUEST) == [c for c in guest_cols if c in top]
        assert kept(running, "host", HOST) == [
            c for i, c in enumerate(host_cols) if f"host_{HOST}_{i}" in top
        ]
    finally:
        running.close()


def test_homo_sbt_filter_keeps_each_partys_columns_above_the_threshold(tmp_path: Path) -> None:
    common = {"filter_methods": ["homo_sbt_filter"], "sbt_param": {"threshold": 2}}
    running, guest, host, _ = _setup(tmp_path, "breast_hetero", common, ["sbt_0"])
    guest_cols, host_cols = features(guest), features(host)
    plant_model(running, "guest", GUEST, "sbt_0", _sbt_model("HomoSecureBoost", {guest_cols[2]: 3.0}))
    plant_model(running, "host", HOST, "sbt_0", _sbt_model("HomoSecureBoost", {host_cols[1]: 2.0}))
    try:
        running.run_ok("selection_0")
        assert kept(running, "guest", GUEST) == [guest_cols[2]]
        assert kept(running, "host", HOST) == [host_cols[1]]
    finally:
        running.close()


@pytest.mark.parametrize(
    "params",
    [
        {"filter_methods": ["no_such_filter"]},
        {"iv_param": {"take_high": False}},
        {"iv_param": {"metrics": ["iv", "iv"], "threshold": [0.1]}},
        {"statistic_param": {"metrics": "not_a_statistic"}},
        {"percentage_value_param": {"upper_pct": 0.05}},
        {"manually_param": {"filter_out_names": ["x1"], "left_col_indexes": [1]}},
        {"iv_param": {"filter_type": "top_k", "threshold": 2.5}},
        {"select_col_indexes": 3},
    ],
)
def test_bad_values_are_refused_with_the_field_named(params: dict[str, Any]) -> None:
    with pytest.raises(ComponentParameterError):
        HeteroFeatureSelection().check_parameters(
            params, component="selection_0", module="HeteroFeatureSelection"
        )


def test_psi_filter_keeps_the_lowest_psi_from_a_psi_model(tmp_path: Path) -> None:
    common = {
        "filter_methods": ["psi_filter"],
        "psi_param": {"filter_type": "top_k", "threshold": 3, "take_high": False},
    }
    running, guest, host, _ = _setup(tmp_path, "breast_hetero", common, ["psi_0"])
    try:
        for role, party, table in (("guest", GUEST, guest), ("host", HOST, host)):
            scores = {c: float(abs(table[c].skew())) for c in features(table)}  # any per-column numbers
            plant_model(running, role, party, "psi_0", {"module": "PSI", "psi": scores})
        running.run_ok("selection_0")
        for role, party, table in (("guest", GUEST, guest), ("host", HOST, host)):
            scores = {c: float(abs(table[c].skew())) for c in features(table)}
            lowest = set(pd.Series(scores).sort_values(kind="stable").index[:3])
            assert kept(running, role, party) == [c for c in features(table) if c in lowest]
    finally:
        running.close()


def test_statistics_of_rows_with_missing_values_equal_pandas(tmp_path: Path, engine: Engine) -> None:
    common = {
        "filter_methods": ["statistic_filter"],
        "statistic_param": {
            "metrics": ["missing_ratio", "variance", "skewness"],
            "take_high": [False, True, False],
            "threshold": [0.08, 0.5, 1.0],
        },
    }
    guest, host = parties("default_credit_hetero", limit=5000)
    rng = np.random.default_rng(7)
    for table in (guest, host):
        cols = features(table)
        # Each column gets its own share of missing cells, some above the 8% threshold.
        for i, c in enumerate(cols):
            table.loc[rng.random(len(table)) < 0.01 * (i % 12), c] = np.nan
    running = harness(tmp_path / "home", common, [], engine=engine)
    try:
        running.plant("guest", GUEST, "data_transform_0", dataset(guest))
        running.plant("host", HOST, "data_transform_0", dataset(host))
        running.run_ok("selection_0")
        for role, party, table in (("guest", GUEST, guest), ("host", HOST, host)):
            data = table[features(table)]
            left = [c for c in data.columns if data[c].isna().mean() <= 0.08]
            left = [c for c in left if data[c].var(ddof=0) >= 0.5] or left[:1]
            centred = data - data.mean()
            skew = (centred**3).mean() / ((centred**2).mean() ** 1.5)
            left = [c for c in left if skew[c] <= 1.0] or left[:1]
            assert kept(running, role, party) == left
            assert 0 < len(left) < len(data.columns)
    finally:
        running.close()
