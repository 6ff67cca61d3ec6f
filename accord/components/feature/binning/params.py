"""What every binning module's parameters share: FATE 1.11's FeatureBinningParam (the base of its
HeteroFeatureBinningParam and HomoFeatureBinningParam) and its TransformParam.

compress_thres and head_size tune the buffer and compression of FATE's Greenwald-Khanna quantile
summary. Accord's quantiles are exact per partition with a rank error within ``error``
(accord.components.feature.binning.splits), so there is no summary to tune: both are accepted and
checked as FATE checks them, and change nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransformParam(Section):
    # -1: the binned columns (category columns included); None: none, apart from transform_names.
    transform_cols: int | list[StrictInt] | None = -1
    transform_names: list[StrictStr] | None = None
    # bin_num: each value becomes its bin index; woe: its bin's WOE (guest only); None: unchanged.
    transform_type: Literal["bin_num", "woe"] | None = "bin_num"

    @field_validator("transform_cols")
    @classmethod
    def _cols(cls, value: int | list[int] | None) -> int | list[int] | None:
        if isinstance(value, int) and value != -1:
            raise ValueError("must be -1 (the binned columns), null, or a list of column indexes")
        return value


class BinningParam(Section):
    """The fields and checks of FATE's FeatureBinningParam; each module adds its ``method`` and more."""

    compress_thres: StrictInt = Field(default=10000, gt=0)
    head_size: StrictInt = Field(default=10000, gt=0)
    error: float = Field(default=0.001, ge=0, le=1)
    bin_num: StrictInt = Field(default=10, gt=0)
    bin_indexes: int | list[StrictInt] | None = -1
    bin_names: list[StrictStr] | None = None
    adjustment_factor: float = Field(default=0.5, gt=0, lt=1)
    transform_param: TransformParam = TransformParam()
    local_only: StrictBool = False
    category_indexes: list[StrictInt] | None = None
    category_names: list[StrictStr] | None = None
    need_run: StrictBool = True
    skip_static: StrictBool = False

    # The subclasses declare ``method``; FATE compares it case-insensitively.
    @field_validator("method", mode="before", check_fields=False)
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("bin_indexes")
    @classmethod
    def _indexes(cls, value: int | list[int] | None) -> int | list[int] | None:
        if isinstance(value, int) and value != -1:
            raise ValueError("must be -1 (every column), null, or a list of column indexes, e.g. [0, 3]")
        if isinstance(value, list) and any(index < 0 for index in value):
            raise ValueError("column indexes count from 0; use -1 alone (not in a list) for every column")
        return value
