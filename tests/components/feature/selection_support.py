"""Shared pieces of the selection tests: FATE's data, isometric models built with plain numpy, a harness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accord.components.sdk import Dataset
from accord.computing.table import Engine
from accord.model_store import ModelKey

from ..breast import DATA
from ..harness import JOB_ID, ComponentHarness

GUEST, HOST, HOST_2 = 9999, 10000, 10001


def frame(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name).sort_values("id").reset_index(drop=True)


def parties(stem: str, limit: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Guest (with y) and host rows on their common ids, in id order."""
    guest, host = frame(f"{stem}_guest.csv"), frame(f"{stem}_host.csv")
    ids = sorted(set(guest["id"]) & set(host["id"]))[:limit]
    return (
        guest[guest["id"].isin(ids)].reset_index(drop=True),
        host[host["id"].isin(ids)].reset_index(drop=True),
    )


def features(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in ("id", "y")]


def dataset(table: pd.DataFrame) -> Dataset:
    labels = table["y"].to_numpy(float) if "y" in table.columns else None
    return Dataset.instances(
        table["id"].astype(str).tolist(),
        table[features(table)].to_numpy(float),
        header=features(table),
        labels=labels,
        label_name="y" if labels is not None else None,
    )


def iv(values: np.ndarray, labels: np.ndarray, bins: int = 10, adjustment: float = 0.5) -> float:
    """IV of one column: quantile split points, value v in the first bin whose split point >= v."""
    splits = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:]))
    bin_of = np.searchsorted(splits, values, side="left")
    total_event, total_non = labels.sum(), (1 - labels).sum()
    result = 0.0
    for b in range(len(splits)):
        event = labels[bin_of == b].sum()
        non = (1 - labels[bin_of == b]).sum()
        if event == 0 or non == 0:
            event, non = (event or adjustment), (non or adjustment)
        rate, non_rate = event / total_event, non / total_non
        result += (rate - non_rate) * np.log(rate / non_rate)
    return float(result)


def ivs(table: pd.DataFrame, labels: np.ndarray) -> dict[str, float]:
    return {c: iv(table[c].to_numpy(float), labels) for c in features(table)}


def binning_models(
    guest: pd.DataFrame, hosts: dict[int, pd.DataFrame]
) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The HeteroFeatureBinning models (the agreed layout) with IVs from the plain computation above."""
    labels = guest["y"].to_numpy(float)
    guest_model = {
        "module": "HeteroFeatureBinning",
        "method": "quantile",
        "header": features(guest),
        "results": {c: {"iv": v} for c, v in ivs(guest, labels).items()},
        "host_results": {
            str(pid): {f"host_{pid}_{i}": {"iv": v} for i, v in enumerate(ivs(host, labels).values())}
            for pid, host in hosts.items()
        },
    }
    host_models = {
        pid: {
            "module": "HeteroFeatureBinning",
            "header": features(host),
            "results": {c: {"split_points": []} for c in features(host)},
            "anonymous": {c: f"host_{pid}_{i}" for i, c in enumerate(features(host))},
        }
        for pid, host in hosts.items()
    }
    return guest_model, host_models


def statistics(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """DataStatistics' values by pandas / numpy (population moments, as FATE's defaults)."""
    cols = features(table)
    data = table[cols]
    mean, std = data.mean(), data.std(ddof=0)
    centred = data - mean
    m2, m3, m4 = (centred**2).mean(), (centred**3).mean(), (centred**4).mean()
    stats = {
        "mean": mean,
        "stddev": std,
        "variance": data.var(ddof=0),
        "coefficient_of_variance": (std / mean.where(mean.abs() >= 1e-8, 1e-8)).abs(),
        "missing_ratio": data.isna().mean(),
        "skewness": (m3 / m2**1.5).where(m2 > 0, 0.0),
        "kurtosis": (m4 / m2**2).where(m2 > 0, 0.0) - 3,
        "95%": pd.Series({c: _rank_value(data[c].to_numpy(float), 0.95) for c in cols}),
    }
    return {name: {c: float(values[c]) for c in cols} for name, values in stats.items()}


def _rank_value(values: np.ndarray, share: float) -> float:
    """The value of rank ceil(share * n) among the present values (FATE's quantile query)."""
    present = np.sort(values[~np.isnan(values)])
    return float(present[max(int(np.ceil(share * present.size)), 1) - 1])


def statistic_model(table: pd.DataFrame) -> dict[str, Any]:
    return {"module": "DataStatistics", "header": features(table), "statistics": statistics(table)}


def dsl(isometric: list[str], predict: bool = False) -> dict[str, Any]:
    components: dict[str, Any] = {
        "data_transform_0": {"module": "DataTransform", "output": {"data": ["data"]}},
        "binning_0": {
            "module": "HeteroFeatureBinning",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "psi_0": {
            "module": "PSI",
            "input": {
                "data": {"train_data": ["data_transform_0.data"], "validate_data": ["data_transform_0.data"]}
            },
            "output": {"model": ["model"]},
        },
        "statistic_0": {
            "module": "DataStatistics",
            "input": {"data": {"data": ["data_transform_0.data"]}},
            "output": {"model": ["model"]},
        },
        "sbt_0": {
            "module": "HeteroSecureBoost",
            "input": {"data": {"train_data": ["data_transform_0.data"]}},
            "output": {"data": ["data"], "model": ["model"]},
        },
        "selection_0": {
            "module": "HeteroFeatureSelection",
            "input": {
                "data": {"data": ["data_transform_0.data"]},
                "isometric_model": [f"{name}.model" for name in isometric],
            },
            "output": {"data": ["data"], "model": ["model"]},
        },
    }
    if not isometric:
        del components["selection_0"]["input"]["isometric_model"]
    if predict:
        components["data_transform_1"] = {"module": "DataTransform", "output": {"data": ["data"]}}
        components["selection_1"] = {
            "module": "HeteroFeatureSelection",
            "input": {"data": {"data": ["data_transform_1.data"]}, "model": ["selection_0.model"]},
            "output": {"data": ["data"], "model": ["model"]},
        }
    return {"components": components}


def conf(
    common: dict[str, Any], hosts: tuple[int, ...] = (HOST,), **by_role: dict[str, Any]
) -> dict[str, Any]:
    role: dict[str, Any] = {}
    for name, params in by_role.items():
        role[name] = {"0": {"selection_0": params}}
    return {
        "dsl_version": 2,
        "initiator": {"role": "guest", "party_id": GUEST},
        "role": {"guest": [GUEST], "host": list(hosts)},
        "component_parameters": {"common": {"selection_0": common}, "role": role},
    }


def harness(
    home: Path,
    common: dict[str, Any],
    isometric: list[str],
    *,
    engine: Engine | None = None,
    hosts: tuple[int, ...] = (HOST,),
    predict: bool = False,
    **by_role: dict[str, Any],
) -> ComponentHarness:
    return ComponentHarness(home, dsl(isometric, predict), conf(common, hosts, **by_role), engine=engine)


def plant_model(
    running: ComponentHarness, role: str, party_id: int, component: str, model: dict[str, Any]
) -> None:
    key = ModelKey(running.plan.model_id, running.plan.model_version or JOB_ID, role, party_id, component)
    running.models.save(key, model)


def kept(running: ComponentHarness, role: str, party_id: int, component: str = "selection_0") -> list[str]:
    return list(running.output(role, party_id, component).header)
