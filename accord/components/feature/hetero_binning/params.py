"""HeteroFeatureBinning's parameters: the names, defaults and checks of FATE 1.11's
HeteroFeatureBinningParam (with TransformParam, OptimalBinningParam and EncryptParam).

The fields every binning module shares (and why compress_thres and head_size change nothing) are in
accord.components.feature.binning.params.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from accord.components.feature.binning.params import BinningParam, Section

Method = Literal["quantile", "bucket", "optimal"]
Metric = Literal["iv", "gini", "chi_square", "ks"]


class OptimalBinningParam(Section):
    metric_method: Metric = "iv"
    min_bin_pct: float = Field(default=0.05, ge=0, le=1)
    max_bin_pct: float = Field(default=1.0, ge=0, le=1)
    init_bin_nums: StrictInt = Field(default=1000, gt=0)
    mixture: StrictBool = True
    init_bucket_method: Literal["quantile", "bucket"] = "quantile"

    @field_validator("metric_method", "init_bucket_method", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.lower()
            # FATE takes both spellings of chi-square.
            return "chi_square" if value == "chi-square" else value
        return value

    @model_validator(mode="after")
    def _pct(self) -> OptimalBinningParam:
        if self.min_bin_pct > self.max_bin_pct:
            raise ValueError("min_bin_pct must be no greater than max_bin_pct")
        return self


class EncryptParam(Section):
    method: str | None = "Paillier"
    key_length: StrictInt = Field(default=1024, ge=512)

    @field_validator("method")
    @classmethod
    def _paillier(cls, value: str | None) -> str | None:
        if value is None or value.lower() != "paillier":
            raise ValueError(
                "Feature Binning supports the Paillier encrypt method only; set method to Paillier"
            )
        return value


class HeteroFeatureBinningParam(BinningParam):
    method: Method = "quantile"
    optimal_binning_param: OptimalBinningParam = OptimalBinningParam()
    encrypt_param: EncryptParam = EncryptParam()
    split_points_by_index: dict[str, list[float]] | None = None
    split_points_by_col_name: dict[str, list[float]] | None = None

    @field_validator("split_points_by_index")
    @classmethod
    def _split_index_keys(cls, value: dict[str, list[float]] | None) -> dict[str, list[float]] | None:
        for key in value or {}:
            if not key.lstrip("-").isdigit() or int(key) < 0:
                raise ValueError(f'key {key!r} is not a column index; use {{"0": [0.5, 1.0]}}')
        return value

    @model_validator(mode="after")
    def _combinations(self) -> HeteroFeatureBinningParam:
        if self.skip_static and self.method == "optimal":
            raise ValueError(
                "with skip_static true optimal binning is not supported (it needs the statistics)"
            )
        if self.skip_static and self.transform_param.transform_type == "woe":
            raise ValueError("to use the woe transform, skip_static must be false")
        return self

    @property
    def custom_split_points(self) -> bool:
        return bool(self.split_points_by_index) or bool(self.split_points_by_col_name)
