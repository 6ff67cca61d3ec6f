"""DataStatistics against numpy and scipy on the breast data, each party describing its own columns.

Every statistic equals numpy's / scipy's on the same cells to 1e-9 (moments over the values that are
neither NaN nor abnormal; skewness and kurtosis as scipy.stats with FATE's bias setting; percentiles
the inverted-CDF quantile, the value at rank ceil(q·n) FATE's quantile summary answers), computed
over many partitions on the local engine and on Spark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from accord.components.feature.statistics import DataStatistics
from accord.components.feature.statistics.params import BASIC_STATISTICS
from accord.computing.table import Engine
from accord.errors import ComponentParameterError

from .support import GUEST, HOST, conf, dsl, harness, parties, plant

NAME = "statistic_0"


def expected(values: np.ndarray, rows: int, bias: bool) -> dict[str, float]:
    """The statistics of one column's counted values (NaN and abnormal ones dropped)."""
    kept = values[~np.isnan(values)]
    ordered = np.sort(kept)
    mean = float(np.mean(kept))
    return {
        "count": float(kept.size),
        "sum": float(np.sum(kept)),
        "mean": mean,
        "variance": float(np.var(kept)),
        "stddev": float(np.std(kept)),
        "coefficient_of_variance": abs(float(np.std(kept)) / mean),
        "min": float(ordered[0]),
        "max": float(ordered[-1]),
        "median": float(np.quantile(kept, 0.5, method="inverted_cdf")),
        "95%": float(np.quantile(kept, 0.95, method="inverted_cdf")),
        "5%": float(np.quantile(kept, 0.05, method="inverted_cdf")),
        "skewness": float(stats.skew(kept, bias=bias)),
        "kurtosis": float(stats.kurtosis(kept, bias=bias)),
    }


def run(tmp_path: Path, engine: Engine | None, params: dict[str, Any]) -> Any:
    running = harness(tmp_path / "home", dsl("DataStatistics", NAME), conf(NAME, params), engine)
    guest, host = parties()
    plant(running, "guest", "data_transform_0", guest)
    plant(running, "host", "data_transform_0", host)
    running.run_ok(NAME)
    return running, guest, host


@pytest.mark.parametrize("bias", [True, False])
def test_every_statistic_equals_numpy_and_scipy(tmp_path: Path, engine: Engine, bias: bool) -> None:
    asked = ["count", "variance", "95%", "5%", "coefficient_of_variance"]
    running, guest, host = run(tmp_path, engine, {"statistics": asked, "bias": bias})
    try:
        for role, party_id, data in (("guest", GUEST, guest), ("host", HOST, host)):
            model = running.model(role, party_id, NAME)
            assert model["module"] == "DataStatistics" and model["header"] == list(data.header)
            assert set(model["statistics"]) == set(BASIC_STATISTICS) | set(asked)
            features = data.features()
            for j, col in enumerate(data.header):
                want = expected(features[:, j], len(data), bias)
                missing = float(np.isnan(features[:, j]).sum())
                want |= {"missing_count": missing, "missing_ratio": missing / len(data)}
                for stat, value in want.items():
                    got = model["statistics"][stat][col]
                    np.testing.assert_allclose(got, value, rtol=1e-9, atol=1e-12, err_msg=f"{col} {stat}")
            # The rows pass through unchanged.
            out = running.output(role, party_id, NAME)
            assert out.ids().tolist() == data.ids().tolist()
            np.testing.assert_array_equal(out.features(), features)
    finally:
        running.close()


def test_abnormal_values_are_left_out_and_columns_are_chosen_as_fate_orders_them(tmp_path: Path) -> None:
    params = {"column_indexes": [3, 1], "column_names": ["x0", "x3", "nowhere"], "abnormal_list": [0, "x"]}
    running, guest, _ = run(tmp_path, None, params)
    try:
        model = running.model("guest", GUEST, NAME)
        assert model["static_columns"] == ["x3", "x1", "x0"]
        features = guest.features()
        for col in ("x3", "x1", "x0"):
            column = features[:, guest.header.index(col)]
            counted = np.where(column == 0, np.nan, column)
            want = expected(counted, len(guest), True)
            for stat in ("sum", "mean", "stddev", "median", "skewness", "kurtosis"):
                np.testing.assert_allclose(model["statistics"][stat][col], want[stat], rtol=1e-9)
            # Abnormal values are not missing: only NaN cells are.
            assert model["statistics"]["missing_count"][col] == float(np.isnan(column).sum())
        host = running.model("host", HOST, NAME)
        assert host["static_columns"] == [host["header"][3], host["header"][1], "x0"]
    finally:
        running.close()


def test_need_run_false_passes_the_rows_through(tmp_path: Path) -> None:
    running, guest, _ = run(tmp_path, None, {"need_run": False})
    try:
        assert running.model("guest", GUEST, NAME)["statistics"] == {}
        assert running.output("guest", GUEST, NAME).ids().tolist() == guest.ids().tolist()
    finally:
        running.close()


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"statistics": ["95%", "mode"]}, "unknown statistic 'mode'"),
        ({"statistics": "101%"}, "unknown statistic '101%'"),
        ({"column_indexes": 2}, "must be -1"),
        ({"quantile_error": 2}, "between 0 and 1"),
        ({"bias": "yes"}, "bias"),
        ({"statistic": ["mean"]}, "did you mean 'statistics'"),
    ],
)
def test_bad_parameters_are_refused_before_running(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ComponentParameterError, match=words):
        DataStatistics().check_parameters(params, component=NAME, module="DataStatistics")


def test_corpus_parameters_expand_to_the_summary_plus_those_asked() -> None:
    params = DataStatistics().check_parameters(
        {
            "statistics": ["95%", "coefficient_of_variance", "stddev"],
            "column_names": [],
            "column_indexes": -1,
        },
        component=NAME,
        module="DataStatistics",
    )
    assert params.computed == [*BASIC_STATISTICS, "95%"]
