"""PositiveUnlabeled's parameters: FATE 1.11's PositiveUnlabeledParam names, defaults and checks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, model_validator


class PositiveUnlabeledParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: Literal["probability", "quantity", "proportion", "distribution"] = "probability"
    threshold: StrictInt | StrictFloat = 0.9

    @model_validator(mode="after")
    def _threshold_fits_strategy(self) -> PositiveUnlabeledParam:
        if self.strategy in ("probability", "proportion") and not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold: the {self.strategy} strategy takes a number in [0, 1]")
        if self.strategy == "quantity" and (not isinstance(self.threshold, int) or self.threshold <= 0):
            raise ValueError("threshold: the quantity strategy takes a positive whole number of rows")
        if self.strategy == "distribution" and self.threshold <= 0:
            raise ValueError("threshold: the distribution strategy takes a positive number")
        return self
