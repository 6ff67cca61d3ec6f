"""HeteroFeatureSelection's parameters: the names, defaults and checks of FATE 1.11's FeatureSelectionParam.

A filter's settings (CommonFilterParam) may each be one value or one per metric; FATE turns them into
lists of the metrics' length, and so does :meth:`CommonFilterParam.per_metric`. Every filter method
of FATE 1.11 runs.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from accord.components.feature.statistics.params import LEGAL_STATISTICS

FilterType = Literal["threshold", "top_k", "top_percentile"]
MergeType = Literal["average", "min", "max"]
Number = float | int

FILTER_METHODS = (
    "unique_value",
    "iv_value_thres",
    "iv_percentile",
    "iv_top_k",
    "coefficient_of_variation_value_thres",
    "outlier_cols",
    "manually",
    "percentage_value",
    "iv_filter",
    "statistic_filter",
    "psi_filter",
    "hetero_sbt_filter",
    "homo_sbt_filter",
    "hetero_fast_sbt_filter",
    "vif_filter",
    "correlation_filter",
)
# DataStatistics' names (FATE's StatisticsParam.LEGAL_STAT); percentiles are written "95%".
STATISTICS = LEGAL_STATISTICS
PERCENTILE = re.compile(r"^(\d+(\.\d+)?)%$")


class _Param(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _unit(value: float, name: str) -> float:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} is a share between 0 and 1, got {value}")
    return value


class UniqueValueParam(_Param):
    eps: float = 1e-5

    @field_validator("eps")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("eps must be positive (a column whose stddev is below it is filtered)")
        return value


class IVValueSelectionParam(_Param):
    value_threshold: Number = 0.0
    host_thresholds: list[Number] | None = None
    local_only: StrictBool = False


class IVPercentileSelectionParam(_Param):
    percentile_threshold: float = 1.0
    local_only: StrictBool = False

    @field_validator("percentile_threshold")
    @classmethod
    def _share(cls, value: float) -> float:
        return _unit(value, "percentile_threshold")


class IVTopKParam(_Param):
    k: StrictInt = 10
    local_only: StrictBool = False

    @field_validator("k")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("k must be a positive integer")
        return value


class VarianceOfCoeSelectionParam(_Param):
    value_threshold: Number = 1.0

    @field_validator("value_threshold")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("value_threshold must be positive")
        return value


class OutlierColsSelectionParam(_Param):
    percentile: float = 1.0
    upper_threshold: Number = 1.0

    @field_validator("percentile")
    @classmethod
    def _share(cls, value: float) -> float:
        return _unit(value, "percentile")


class ManuallyFilterParam(_Param):
    filter_out_indexes: list[StrictInt] | None = None
    filter_out_names: list[StrictStr] | None = None
    left_col_indexes: list[StrictInt] | None = None
    left_col_names: list[StrictStr] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ManuallyFilterParam:
        # FATE's own test, `(a or b) is not None`: an empty list given next to None still counts.
        out = (self.filter_out_indexes or self.filter_out_names) is not None
        left = (self.left_col_names or self.left_col_indexes) is not None
        if out and left:
            raise ValueError(
                "(left_col_indexes & left_col_names) cannot be used with (filter_out_indexes & "
                "filter_out_names) simultaneously; give the columns to keep or those to drop"
            )
        return self


class PercentageValueParam(_Param):
    upper_pct: float = 1.0

    @field_validator("upper_pct")
    @classmethod
    def _share(cls, value: float) -> float:
        _unit(value, "upper_pct")
        if value < 0.1:
            raise ValueError(f"upper_pct {value} is not supported: it should not be smaller than 0.1")
        return value


class CommonFilterParam(_Param):
    """One value for every metric, or one per metric (then every list has the metrics' length)."""

    metrics: StrictStr | list[StrictStr] = "mean"
    filter_type: FilterType | list[FilterType] = "threshold"
    take_high: StrictBool | list[StrictBool] = True
    threshold: Number | list[Number] = 1
    # One threshold for every host, or one per host, per metric (FATE: "list of float or list of list").
    # An entry may be null: that metric uses the guest's threshold for the hosts too.
    host_thresholds: Number | list[Number | list[Number] | None] | None = None
    select_federated: StrictBool | list[StrictBool] = True

    @field_validator("metrics", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.lower()
        if isinstance(value, list):
            return [item.lower() if isinstance(item, str) else item for item in value]
        return value

    def per_metric(self, name: str) -> list[Any]:
        """``name``'s value for each metric, as FATE's _convert_to_list makes it."""
        value = getattr(self, name)
        width = len(self.metrics) if isinstance(self.metrics, list) else 1
        return list(value) if isinstance(value, list) else [value] * width

    def metric_list(self) -> list[str]:
        return list(self.metrics) if isinstance(self.metrics, list) else [self.metrics]

    def host_threshold(self, index: int) -> float | list[float] | None:
        """The host threshold(s) for metric ``index``: FATE takes element ``index`` of the list."""
        found = self.host_thresholds
        if found is None or not isinstance(found, list):
            return found
        if index >= len(found):
            raise ValueError(f"host_thresholds has {len(found)} entries, metric {index} has none")
        item = found[index]
        if item is None:
            return None
        return [float(v) for v in item] if isinstance(item, list) else float(item)

    @model_validator(mode="after")
    def _lists(self) -> CommonFilterParam:
        listed = isinstance(self.metrics, list)
        names = ("filter_type", "take_high", "threshold", "select_federated")
        for name in names:
            value = getattr(self, name)
            if isinstance(value, list) and not listed:
                raise ValueError(f"{name} is a list while metrics is not: make metrics a list too")
            if isinstance(value, list) and len(value) != len(self.metric_list()):
                raise ValueError(f"{name} has {len(value)} entries but metrics has {len(self.metric_list())}")
        for kind, bound in zip(self.per_metric("filter_type"), self.per_metric("threshold"), strict=True):
            if kind == "top_k" and (not float(bound).is_integer() or bound <= 0):
                raise ValueError(f"a top_k filter keeps a positive whole number of columns, not {bound}")
            if kind == "top_percentile":
                _unit(bound, "a top_percentile threshold")
        return self


class IVFilterParam(CommonFilterParam):
    metrics: StrictStr | list[StrictStr] = "iv"
    mul_class_merge_type: MergeType | list[MergeType] = "average"

    @model_validator(mode="after")
    def _iv(self) -> IVFilterParam:
        if any(metric != "iv" for metric in self.metric_list()):
            raise ValueError("for the iv filter, metrics should be 'iv'")
        if not all(self.per_metric("take_high")):
            raise ValueError("the iv filter takes the columns of higher iv: take_high must be true")
        merge = self.mul_class_merge_type
        if isinstance(merge, list) and len(merge) != len(self.metric_list()):
            raise ValueError("mul_class_merge_type has another length than metrics")
        return self


class CorrelationFilterParam(_Param):
    sort_metric: StrictStr = "iv"
    threshold: Number = 0.1
    select_federated: StrictBool = True

    @model_validator(mode="after")
    def _check(self) -> CorrelationFilterParam:
        self.sort_metric = self.sort_metric.lower()
        if self.sort_metric != "iv":
            raise ValueError("sort_metric in the correlation filter should be one of ['iv']")
        if self.threshold <= 0:
            raise ValueError("the correlation threshold must be positive")
        return self


# FATE updates a default filter object with what the conf gives, so each filter keeps its own defaults
# for the fields left out (psi_param without metrics is still the psi filter).
class StatisticFilterParam(CommonFilterParam):
    metrics: StrictStr | list[StrictStr] = "mean"


class PsiFilterParam(CommonFilterParam):
    metrics: StrictStr | list[StrictStr] = "psi"
    take_high: StrictBool | list[StrictBool] = False


class VifFilterParam(CommonFilterParam):
    metrics: StrictStr | list[StrictStr] = "vif"
    take_high: StrictBool | list[StrictBool] = False
    threshold: Number | list[Number] = 5.0


class SbtFilterParam(CommonFilterParam):
    metrics: StrictStr | list[StrictStr] = "feature_importance"


class FeatureSelectionParam(_Param):
    select_col_indexes: StrictInt | list[StrictInt] = -1
    select_names: list[StrictStr] | None = None
    filter_methods: list[StrictStr] = ["manually"]
    unique_param: UniqueValueParam = UniqueValueParam()
    iv_value_param: IVValueSelectionParam = IVValueSelectionParam()
    iv_percentile_param: IVPercentileSelectionParam = IVPercentileSelectionParam()
    iv_top_k_param: IVTopKParam = IVTopKParam()
    variance_coe_param: VarianceOfCoeSelectionParam = VarianceOfCoeSelectionParam()
    outlier_param: OutlierColsSelectionParam = OutlierColsSelectionParam()
    manually_param: ManuallyFilterParam = ManuallyFilterParam()
    percentage_value_param: PercentageValueParam = PercentageValueParam()
    iv_param: IVFilterParam = IVFilterParam()
    statistic_param: StatisticFilterParam = StatisticFilterParam()
    psi_param: PsiFilterParam = PsiFilterParam()
    vif_param: VifFilterParam = VifFilterParam()
    sbt_param: SbtFilterParam = SbtFilterParam()
    correlation_param: CorrelationFilterParam = CorrelationFilterParam()
    use_anonymous: StrictBool = False
    need_run: StrictBool = True

    @field_validator("filter_methods")
    @classmethod
    def _methods(cls, value: list[str]) -> list[str]:
        methods = [method.lower() for method in value]
        unknown = [method for method in methods if method not in FILTER_METHODS]
        if unknown:
            raise ValueError(f"unknown filter method(s) {unknown}; FATE's are {list(FILTER_METHODS)}")
        return methods

    @field_validator("select_col_indexes")
    @classmethod
    def _indexes(cls, value: int | list[int]) -> int | list[int]:
        if isinstance(value, int) and value != -1:
            raise ValueError("must be -1 (every column) or a list of column indexes, e.g. [0, 3]")
        return value

    @model_validator(mode="after")
    def _filters(self) -> FeatureSelectionParam:
        for metric in self.statistic_param.metric_list():
            if metric not in STATISTICS and not _percentile(metric):
                raise ValueError(
                    f"statistic_param.metrics: {metric!r} is not a DataStatistics value; use one of "
                    f"{list(STATISTICS)} or a percentile such as '95%'"
                )
        if any(self.psi_param.per_metric("take_high")):
            raise ValueError("psi_param: the PSI filter takes lower psi features (take_high false)")
        if any(metric != "psi" for metric in self.psi_param.metric_list()):
            raise ValueError("psi_param: for the psi filter, metrics should be 'psi'")
        if not all(self.sbt_param.per_metric("take_high")):
            raise ValueError("sbt_param: the SBT filter takes higher feature_importance features")
        if any(metric != "feature_importance" for metric in self.sbt_param.metric_list()):
            raise ValueError("sbt_param: for the SBT filter, metrics should be 'feature_importance'")
        if any(metric != "vif" for metric in self.vif_param.metric_list()):
            raise ValueError("vif_param: for the VIF filter, metrics should be 'vif'")
        return self


def _percentile(metric: str) -> bool:
    found = PERCENTILE.match(metric)
    return found is not None and float(found.group(1)) <= 100
