"""Where filters get their values: the isometric models (binning IV, DataStatistics, PSI, HeteroPearson)
or the data.

The models are read in the formats the feature modules agree on (a ``module`` key names each). When no
DataStatistics model carries a statistic a filter needs, this party computes it from its own rows with
FATE's formulas (federatedml/statistic/statics.py): population variance (|v| < 1e-8 counts as 0),
stddev its root, coefficient_of_variance |stddev / mean| (a mean under 1e-8 counts as 1e-8), biased
skewness m3 / m2^1.5 and excess kurtosis m4 / m2^2 - 3 (0 for a constant column), missing over all
rows; a percentile "q%" is the value of rank ceil(q * n) among the present values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from accord.components.feature.selection import blocks
from accord.components.sdk import DataTable
from accord.errors import DataFormatError, OperatingError

FLOAT_ZERO = 1e-8


def _module_of(model: Mapping[str, Any]) -> str:
    """The module a model is of: at its top (feature modules) or in its meta / param (trainers)."""
    for where in (model, model.get("meta"), model.get("param")):
        if isinstance(where, Mapping):
            found = where.get("module") or where.get("model_name")
            if found:
                return str(found)
    return ""


class Models:
    """The isometric models given to the component, by module."""

    def __init__(self, models: Sequence[Mapping[str, Any]], component: str) -> None:
        self.component = component
        self.by_module: dict[str, Mapping[str, Any]] = {}
        for model in models:
            module = _module_of(model)
            if module in self.by_module:
                raise DataFormatError(
                    f"{component} was given two {module} isometric models",
                    hint="give feature selection one model of each kind",
                )
            self.by_module[module] = model

    @property
    def binning(self) -> Mapping[str, Any] | None:
        return self.by_module.get("HeteroFeatureBinning")

    @property
    def statistics(self) -> Mapping[str, Any] | None:
        return self.by_module.get("DataStatistics")

    @property
    def psi(self) -> Mapping[str, Any] | None:
        return self.by_module.get("PSI")

    @property
    def pearson(self) -> Mapping[str, Any] | None:
        return self.by_module.get("HeteroPearson")

    @property
    def secureboost(self) -> Mapping[str, Any] | None:
        for module in ("HeteroSecureBoost", "HeteroFastSecureBoost", "HomoSecureBoost"):
            if module in self.by_module:
                return self.by_module[module]
        return None


# ---- feature importance from a SecureBoost model --------------------------------------------------


def importance(model: Mapping[str, Any] | None, metric: str, component: str) -> dict[str, float]:
    """Each column's importance (the model's feature_importance_type: split count or gain) by name; a
    host's columns under their anonymous names. A column no tree split on is absent (importance 0)."""
    if model is None:
        raise OperatingError(
            f"{component} runs an SBT filter but was given no SecureBoost model",
            hint='wire the SecureBoost component\'s model into "isometric_model"',
        )
    if metric != "feature_importance":
        raise OperatingError(f"{component}: the SBT filter ranks by feature_importance, not {metric}")
    param = model.get("param") or {}
    kind = str(param.get("feature_importance_type") or "split")
    found = param.get("feature_importance") or {}
    # HeteroSecureBoost keeps both kinds per column; HomoSecureBoost the one its tree_param names.
    return {
        str(name): float(values.get(kind, 0.0) if isinstance(values, Mapping) else values)
        for name, values in found.items()
    }


# ---- IV from the binning model -------------------------------------------------------------------


def _merged(per_label: Sequence[Mapping[str, Any]], merge: str) -> dict[str, float]:
    """Each column's IV over the labels' one-vs-rest results: their average, min or max."""
    names = list(dict.fromkeys(name for results in per_label for name in results))
    merged: dict[str, float] = {}
    for name in names:
        values = np.array([float(results[name]["iv"]) for results in per_label if name in results])
        merged[name] = float({"max": np.max, "min": np.min}.get(merge, np.mean)(values))
    return merged


def guest_iv(model: Mapping[str, Any], merge: str) -> dict[str, float]:
    by_label = model.get("results_by_label") or {}
    if by_label:
        return _merged(list(by_label.values()), merge)
    return {name: float(result["iv"]) for name, result in (model.get("results") or {}).items()}


def host_iv(model: Mapping[str, Any], party_id: int, merge: str) -> dict[str, float] | None:
    """A host's IV by anonymous name, or None when the binning model has none for it (local_only)."""
    by_label = (model.get("host_results_by_label") or {}).get(str(party_id))
    if by_label:
        return _merged(list(by_label.values()), merge)
    found = (model.get("host_results") or {}).get(str(party_id))
    if found is None:
        return None
    return {name: float(result["iv"]) for name, result in found.items()}


def require_iv(values: Mapping[str, float], names: Sequence[str], component: str) -> list[float]:
    missing = [name for name in names if name not in values]
    if missing:
        raise DataFormatError(
            f"{component} filters by IV but the binning model has no IV for {missing[:10]}",
            hint="bin every column you select (bin_indexes -1), or leave these out of select_col_indexes",
        )
    return [values[name] for name in names]


# ---- statistics ----------------------------------------------------------------------------------


def statistic(models: Models, data: DataTable, cols: list[int], metric: str, log: Any) -> list[float]:
    """``metric`` for the columns ``cols``: from the DataStatistics model, else from the rows."""
    names = [data.header[i] for i in cols]
    model = models.statistics
    table = (model.get("statistics") or {}).get(metric) if model is not None else None
    if table is not None and all(name in table for name in names):
        return [float(table[name]) for name in names]
    log.info(
        "%s: %s computed from this party's rows (no DataStatistics model gives it)", models.component, metric
    )
    return [float(v) for v in local_statistic(data, cols, metric)]


def local_statistic(data: DataTable, cols: list[int], metric: str) -> np.ndarray:
    if not cols:
        return np.zeros(0)
    if metric.endswith("%") or metric == "median":
        share = 0.5 if metric == "median" else float(metric[:-1]) / 100
        values = blocks.gather(data, cols)
        return np.array([_rank_value(values[:, k], share) for k in range(len(cols))])
    found = blocks.moments(data, cols)
    count = found.count.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = found.sums[0] / count
        e2, e3, e4 = found.sums[1] / count, found.sums[2] / count, found.sums[3] / count
        variance = e2 - mean**2
        variance = np.where(np.abs(variance) < FLOAT_ZERO, 0.0, variance)
        stddev = np.sqrt(variance)
        m3 = e3 - 3 * mean * e2 + 2 * mean**3
        m4 = e4 - 4 * mean * e3 + 6 * mean**2 * e2 - 3 * mean**4
        zero = variance == 0
        table = {
            "count": count,
            "sum": found.sums[0],
            "mean": mean,
            "variance": variance,
            "stddev": stddev,
            "min": found.low,
            "max": found.high,
            "missing_count": found.rows - count,
            "missing_ratio": (found.rows - count) / found.rows,
            "coefficient_of_variance": np.abs(stddev / np.where(np.abs(mean) < FLOAT_ZERO, FLOAT_ZERO, mean)),
            "skewness": np.where(zero, 0.0, m3 / variance**1.5),
            "kurtosis": np.where(zero, 0.0, m4 / variance**2) - 3,
        }
    if metric not in table:
        raise OperatingError(f"statistic {metric!r} cannot be computed by feature selection")
    result: np.ndarray = table[metric]
    return result


def _rank_value(column: np.ndarray, share: float) -> float:
    present = np.sort(column[~np.isnan(column)])
    if not present.size:
        return float("nan")
    rank = max(int(np.ceil(share * present.size)), 1)
    return float(present[rank - 1])


def psi(models: Models, names: Sequence[str], component: str) -> list[float]:
    model = models.psi
    if model is None:
        raise OperatingError(
            f"{component} runs psi_filter but was given no PSI model",
            hint='wire a PSI component\'s model into "isometric_model"',
        )
    scores = model.get("psi") or {}
    missing = [name for name in names if name not in scores]
    if missing:
        raise DataFormatError(f"{component}: the PSI model has no psi for {missing[:10]}")
    return [float(scores[name]) for name in names]
