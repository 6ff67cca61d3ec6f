"""filter_methods as the list of filters that run, in order, with each one's settings.

FATE runs statistic_filter, iv_filter and psi_filter once per metric listed, and maps its older filters
onto the same rules (federatedml/feature/feature_selection/filter_factory.py): unique_value is the
stddev threshold ``eps``; coefficient_of_variation_value_thres the coefficient_of_variance threshold;
outlier_cols keeps columns whose ``int(percentile * 100)`` percent point is at most upper_threshold;
iv_value_thres / iv_percentile / iv_top_k are the iv filter with select_federated = not local_only.
vif_filter runs once per metric as statistic_filter does; correlation_filter is one step (correlation.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from accord.components.feature.selection.params import FeatureSelectionParam

Kind = Literal[
    "manually", "percentage_value", "statistic", "psi", "iv", "vif", "correlation", "sbt", "homo_sbt"
]


@dataclass(frozen=True)
class Step:
    kind: Kind
    # The result's name in the model and summary, as FATE names it (iv_threshold, stddev, manually...).
    name: str
    metric: str = ""
    filter_type: str = "threshold"
    take_high: bool = True
    threshold: float = 1.0
    # One threshold for every host, one per host in the job's host order, or None (the guest's).
    host_thresholds: float | list[float] | None = None
    select_federated: bool = True
    merge: str = "average"


SBT_FILTERS = ("hetero_sbt_filter", "hetero_fast_sbt_filter", "homo_sbt_filter")


def steps(params: FeatureSelectionParam) -> list[Step]:
    found: list[Step] = []
    for method in params.filter_methods:
        found.extend(_method(params, method))
    return found


def _method(params: FeatureSelectionParam, method: str) -> list[Step]:
    if method == "manually":
        return [Step("manually", "manually")]
    if method == "percentage_value":
        return [Step("percentage_value", "percentage_value")]
    if method == "unique_value":
        return [Step("statistic", method, "stddev", threshold=params.unique_param.eps)]
    if method == "coefficient_of_variation_value_thres":
        value = params.variance_coe_param.value_threshold
        return [Step("statistic", method, "coefficient_of_variance", threshold=value)]
    if method == "outlier_cols":
        outlier = params.outlier_param
        # FATE's own spelling of the percentile (int of the product: 0.95 gives "95%").
        metric = f"{int(outlier.percentile * 100)}%"
        return [Step("statistic", method, metric, take_high=False, threshold=outlier.upper_threshold)]
    if method == "iv_value_thres":
        iv_value = params.iv_value_param
        given = iv_value.host_thresholds
        hosts = [float(v) for v in given] if given is not None else None
        return [
            Step(
                "iv",
                method,
                "iv",
                threshold=iv_value.value_threshold,
                host_thresholds=hosts,
                select_federated=not iv_value.local_only,
            )
        ]
    if method == "iv_percentile":
        share = params.iv_percentile_param
        return [
            Step(
                "iv",
                method,
                "iv",
                filter_type="top_percentile",
                threshold=share.percentile_threshold,
                select_federated=not share.local_only,
            )
        ]
    if method == "iv_top_k":
        top = params.iv_top_k_param
        return [
            Step(
                "iv", method, "iv", filter_type="top_k", threshold=top.k, select_federated=not top.local_only
            )
        ]
    if method == "iv_filter":
        iv = params.iv_param
        merges = iv.per_metric("mul_class_merge_type")
        return [
            Step(
                "iv",
                f"iv_{kind}",
                "iv",
                filter_type=kind,
                take_high=True,
                threshold=float(bound),
                host_thresholds=iv.host_threshold(index),
                select_federated=federated,
                merge=merges[index],
            )
            for index, (kind, bound, federated) in enumerate(
                zip(
                    iv.per_metric("filter_type"),
                    iv.per_metric("threshold"),
                    iv.per_metric("select_federated"),
                    strict=True,
                )
            )
        ]
    if method in SBT_FILTERS:
        sbt = params.sbt_param
        return [
            Step(
                "homo_sbt" if method == "homo_sbt_filter" else "sbt",
                f"{metric}_{kind}",
                metric,
                filter_type=kind,
                take_high=True,
                threshold=float(bound),
                host_thresholds=sbt.host_threshold(index),
                select_federated=federated,
            )
            for index, (metric, kind, bound, federated) in enumerate(
                zip(
                    sbt.metric_list(),
                    sbt.per_metric("filter_type"),
                    sbt.per_metric("threshold"),
                    sbt.per_metric("select_federated"),
                    strict=True,
                )
            )
        ]
    if method == "correlation_filter":
        corr = params.correlation_param
        return [
            Step(
                "correlation",
                method,
                corr.sort_metric,
                take_high=False,
                threshold=float(corr.threshold),
                select_federated=corr.select_federated,
            )
        ]
    if method in ("statistic_filter", "psi_filter", "vif_filter"):
        common = {
            "statistic_filter": params.statistic_param,
            "psi_filter": params.psi_param,
            "vif_filter": params.vif_param,
        }[method]
        kinds: dict[str, Kind] = {"statistic_filter": "statistic", "psi_filter": "psi", "vif_filter": "vif"}
        kind = kinds[method]
        return [
            Step(
                kind,
                metric if kind == "statistic" else f"{metric}_{filter_type}",
                metric,
                filter_type=filter_type,
                take_high=take_high,
                threshold=float(bound),
            )
            for metric, filter_type, take_high, bound in zip(
                common.metric_list(),
                common.per_metric("filter_type"),
                common.per_metric("take_high"),
                common.per_metric("threshold"),
                strict=True,
            )
        ]
    # check_supported refuses the rest at submit; reaching here means a caller skipped it.
    raise ValueError(f"filter method {method} is not run by Accord")
