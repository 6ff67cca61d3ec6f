"""FederatedSample's parameters: FATE 1.11's SampleParam (names, defaults and checks).

``fractions`` is a number for mode random (a share of the rows) and a list of ``[label, rate]`` pairs
for mode stratified; FATE fails at run time without them, here they are required up front, and the
rates are checked as FATE's samplers check them (0 to 1 for downsample, above 0 for upsample).
exact_by_weight (FATE 1.11's third mode) needs no fractions: each row with weight w > 0 is repeated
ceil(w) times.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

Number = StrictInt | StrictFloat
Label = StrictInt | StrictFloat | StrictStr


class SampleParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["random", "stratified", "exact_by_weight"] = "random"
    method: Literal["downsample", "upsample"] = "downsample"
    fractions: Number | list[tuple[Label, Number]] | None = None
    random_state: StrictInt | None = None
    task_type: Literal["hetero", "homo"] = "hetero"
    need_run: StrictBool = True

    @field_validator("mode", "method", "task_type", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("random_state")
    @classmethod
    def _seed(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value < 2**32:
            raise ValueError("random_state is a seed: a whole number from 0 to 2**32 - 1")
        return value

    @model_validator(mode="after")
    def _fractions(self) -> SampleParam:
        if self.mode == "exact_by_weight" or not self.need_run:
            return self
        down = self.method == "downsample"
        if self.mode == "random":
            if not isinstance(self.fractions, int | float):
                raise ValueError("mode random needs fractions: the share of rows to draw, e.g. 0.8")
            rates = [float(self.fractions)]
        else:
            if not isinstance(self.fractions, list) or not self.fractions:
                raise ValueError(
                    "mode stratified needs fractions: a list of [label, rate] pairs, "
                    "e.g. [[0, 0.5], [1, 0.8]]"
                )
            labels = [label for label, _ in self.fractions]
            if len(set(labels)) != len(labels):
                raise ValueError("fractions names a label twice; give each label one rate")
            rates = [float(rate) for _, rate in self.fractions]
        if down and any(not 0 <= rate <= 1 for rate in rates):
            raise ValueError("downsample rates are shares of the rows, from 0 to 1 inclusive")
        if not down and any(rate <= 0 for rate in rates):
            raise ValueError("upsample rates must be above 0 (e.g. 1.5 draws one and a half times the rows)")
        return self
