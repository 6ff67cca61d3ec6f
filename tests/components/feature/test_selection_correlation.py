"""HeteroFeatureSelection's correlation_filter and vif_filter against plain numpy rules on the breast data.

The Pearson models come from HeteroPearson itself (run in the same harness) or are built here with
numpy.corrcoef; the IVs from the plain quantile binning of selection_support. VIF keeps the columns
whose diag(inv(corr)) is at most the threshold; the correlation filter walks the columns by IV, highest
first, and drops every column whose |corr| with a column still standing exceeds the threshold.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from accord.components.feature.selection import HeteroFeatureSelection
from accord.computing.table import Engine

from ..harness import ComponentHarness
from .selection_support import (
    GUEST,
    HOST,
    binning_models,
    conf,
    dataset,
    dsl,
    features,
    kept,
    parties,
    plant_model,
)

PEARSON = {
    "module": "HeteroPearson",
    "input": {"data": {"data": ["data_transform_0.data"]}},
    "output": {"data": ["data"], "model": ["model"]},
}


def _harness(tmp_path: Path, common: dict[str, Any], engine: Engine | None) -> Any:
    job = dsl(["binning_0", "pearson_0"])
    job["components"]["pearson_0"] = copy.deepcopy(PEARSON)
    job_conf = conf(common)
    job_conf["component_parameters"]["common"]["pearson_0"] = {"column_indexes": -1}
    running = ComponentHarness(tmp_path / "home", job, job_conf, engine=engine)
    guest, host = parties("breast_hetero")
    running.plant("guest", GUEST, "data_transform_0", dataset(guest))
    running.plant("host", HOST, "data_transform_0", dataset(host))
    guest_bin, host_bins = binning_models(guest, {HOST: host})
    plant_model(running, "guest", GUEST, "binning_0", guest_bin)
    plant_model(running, "host", HOST, "binning_0", host_bins[HOST])
    return running, guest, host, guest_bin


def _ivs(guest: pd.DataFrame, host: pd.DataFrame, guest_bin: dict[str, Any]) -> dict[tuple[str, str], float]:
    found = {("guest", c): float(v["iv"]) for c, v in guest_bin["results"].items()}
    anonymous = guest_bin["host_results"][str(HOST)]
    found |= {("host", c): float(anonymous[f"host_{HOST}_{i}"]["iv"]) for i, c in enumerate(features(host))}
    return found


def plain_vif_kept(table: pd.DataFrame, threshold: float) -> list[str]:
    cols = features(table)
    vif = np.diag(np.linalg.inv(np.corrcoef(table[cols].to_numpy(float), rowvar=False)))
    return [c for c, v in zip(cols, vif, strict=True) if v <= threshold]


def plain_correlation_kept(
    joined: pd.DataFrame, columns: list[tuple[str, str]], ivs: dict[tuple[str, str], float], threshold: float
) -> set[tuple[str, str]]:
    """Highest IV first: a column stays unless |corr| with a column that stayed exceeds the threshold.

    Host-host pairs do not count: the guest, which decides, has no correlations between host columns.
    """
    corr = joined.corr()  # pandas' Pearson, independent of numpy.corrcoef
    standing: list[tuple[str, str]] = []
    for column in sorted(columns, key=lambda c: ivs[c], reverse=True):
        if all(
            abs(corr.loc[column[1] + "@" + column[0], s[1] + "@" + s[0]]) <= threshold
            for s in standing
            if "guest" in (column[0], s[0])
        ):
            standing.append(column)
    return set(standing)


def _joined(guest: pd.DataFrame, host: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(
        [guest[features(guest)].add_suffix("@guest"), host[features(host)].add_suffix("@host")], axis=1
    )


def test_vif_then_federated_correlation_with_hetero_pearson(tmp_path: Path, engine: Engine) -> None:
    common = {
        "filter_methods": ["vif_filter", "correlation_filter"],
        "vif_param": {"threshold": 5},
        "correlation_param": {"threshold": 0.5, "select_federated": True},
    }
    running, guest, host, guest_bin = _harness(tmp_path, common, engine)
    try:
        running.run_ok("pearson_0")
        running.run_ok("selection_0")
        guest_vif, host_vif = plain_vif_kept(guest, 5), plain_vif_kept(host, 5)
        assert guest_vif and host_vif
        columns = [("guest", c) for c in guest_vif] + [("host", c) for c in host_vif]
        want = plain_correlation_kept(_joined(guest, host), columns, _ivs(guest, host, guest_bin), 0.5)
        assert kept(running, "guest", GUEST) == [c for c in guest_vif if ("guest", c) in want]
        assert kept(running, "host", HOST) == [c for c in host_vif if ("host", c) in want]
        model = running.model("guest", GUEST, "selection_0")
        assert [r["filter_name"] for r in model["results"]] == ["vif_threshold", "correlation_filter"]
    finally:
        running.close()


def test_local_correlation_keeps_every_host_column(tmp_path: Path) -> None:
    common = {
        "filter_methods": ["correlation_filter"],
        "correlation_param": {"threshold": 0.6, "select_federated": False},
    }
    running, guest, host, guest_bin = _harness(tmp_path, common, None)
    try:
        running.run_ok("pearson_0")
        running.run_ok("selection_0")
        columns = [("guest", c) for c in features(guest)]
        want = plain_correlation_kept(_joined(guest, host), columns, _ivs(guest, host, guest_bin), 0.6)
        assert kept(running, "guest", GUEST) == [c for c in features(guest) if ("guest", c) in want]
        assert kept(running, "host", HOST) == features(host)
    finally:
        running.close()


def test_correlation_needs_both_models(tmp_path: Path) -> None:
    job = dsl(["binning_0"])
    common = {"filter_methods": ["correlation_filter"]}
    running = ComponentHarness(tmp_path / "home", job, conf(common))
    guest, host = parties("breast_hetero", limit=60)
    running.plant("guest", GUEST, "data_transform_0", dataset(guest))
    running.plant("host", HOST, "data_transform_0", dataset(host))
    guest_bin, host_bins = binning_models(guest, {HOST: host})
    plant_model(running, "guest", GUEST, "binning_0", guest_bin)
    plant_model(running, "host", HOST, "binning_0", host_bins[HOST])
    try:
        failures = running.run("selection_0")
        assert "HeteroPearson" in str(failures[next(p for p in failures if p.role == "guest")])
    finally:
        running.close()


@pytest.mark.parametrize("method", ["correlation_filter", "vif_filter"])
def test_pearson_filters_pass_the_submit_check(method: str) -> None:
    HeteroFeatureSelection().check_parameters(
        {"filter_methods": [method]}, component="selection_0", module="HeteroFeatureSelection"
    )
