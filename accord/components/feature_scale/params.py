"""FeatureScale's parameters: the names, defaults and checks of FATE's ScaleParam.

Checks that need the data (a list bound's length, an index beyond the header) are made when the
component runs; everything else is refused at submit with the field named.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, field_validator, model_validator

Method = Literal["min_max_scale", "standard_scale"]
Mode = Literal["normal", "cap"]
# One number for every feature column, or one per feature column of the party (by column index).
Bound = float | list[float] | None


class FeatureScaleParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # None is accepted as FATE accepts it: the component then passes its rows through unscaled.
    method: Method | None = "standard_scale"
    # normal: feat_upper / feat_lower are values of the column; cap: percentiles of it, from 0 to 1.
    mode: Mode = "normal"
    # -1: every feature column (scale_names is then unused); a list: these indexes plus scale_names.
    scale_col_indexes: int | list[int] = -1
    scale_names: list[StrictStr] = []
    feat_upper: Bound = None
    feat_lower: Bound = None
    with_mean: StrictBool = True
    with_std: StrictBool = True
    need_run: StrictBool = True

    @field_validator("method", "mode", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        # FATE compares these case-insensitively.
        return value.lower() if isinstance(value, str) else value

    @field_validator("scale_col_indexes")
    @classmethod
    def _indexes(cls, value: int | list[int]) -> int | list[int]:
        if isinstance(value, int) and value != -1:
            raise ValueError("must be -1 (every feature column) or a list of column indexes, e.g. [0, 3]")
        if isinstance(value, list) and any(index < 0 for index in value):
            raise ValueError("column indexes count from 0; use -1 alone (not in a list) for every column")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> FeatureScaleParam:
        if self.mode == "cap":
            for name in ("feat_lower", "feat_upper"):
                if any(not 0 <= share <= 1 for share in _values(getattr(self, name))):
                    raise ValueError(
                        f"in cap mode {name} is a percentile of the column, between 0 and 1 "
                        "(use mode normal for bounds given as values)"
                    )
        lower, upper = _values(self.feat_lower), _values(self.feat_upper)
        if lower and upper and (len(lower) == len(upper) or 1 in (len(lower), len(upper))):
            width = max(len(lower), len(upper))
            lows = lower * width if len(lower) == 1 else lower
            highs = upper * width if len(upper) == 1 else upper
            crossed = [index for index in range(width) if lows[index] > highs[index]]
            if crossed:
                raise ValueError(
                    f"feat_lower is above feat_upper (at column index {crossed[:10]}); "
                    "give each column a lower bound no greater than its upper bound"
                )
        return self


def _values(bound: Bound) -> list[float]:
    if bound is None:
        return []
    return list(bound) if isinstance(bound, list) else [bound]
