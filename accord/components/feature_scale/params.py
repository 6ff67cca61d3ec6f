"""FeatureScale's parameters, named and defaulted as FATE's ScaleParam."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

Bound = float | list[float] | None


class FeatureScaleParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # None keeps FATE's meaning: the component runs and scales nothing.
    method: Literal["min_max_scale", "standard_scale"] | None = "standard_scale"
    # normal: feat_upper / feat_lower are values; cap: they are percentiles of the column (0 to 1).
    mode: Literal["normal", "cap"] = "normal"
    scale_col_indexes: int | list[int] = -1
    scale_names: list[str] = []
    feat_upper: Bound = None
    feat_lower: Bound = None
    with_mean: bool = True
    with_std: bool = True
    need_run: bool = True

    @field_validator("method", "mode", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        # FATE lower-cases these before checking them.
        return value.lower() if isinstance(value, str) else value

    @field_validator("scale_col_indexes")
    @classmethod
    def _indexes(cls, value: int | list[int]) -> int | list[int]:
        if isinstance(value, int) and value != -1:
            raise ValueError("must be -1 (every column) or a list of column indexes")
        if isinstance(value, list) and any(index < 0 for index in value):
            raise ValueError("column indexes start at 0")
        return value
