"""Scorecard's parameters: FATE 1.11's ScorecardParam, names, defaults and checks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, field_validator

Number = StrictInt | StrictFloat


class ScorecardParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # FATE's only method: a credit score from the odds of the predicted probability.
    method: Literal["credit"] = "credit"
    # The score at odds 1.
    offset: Number = 500
    # Points added each time the odds grow by factor_base.
    factor: Number = 20
    factor_base: Number = 2
    # The score's upper bound is upper_limit_ratio * offset.
    upper_limit_ratio: Number = 3
    lower_limit_value: Number = 0
    need_run: StrictBool = True

    @field_validator("method", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        # FATE lower-cases the method before checking it.
        return value.lower() if isinstance(value, str) else value
