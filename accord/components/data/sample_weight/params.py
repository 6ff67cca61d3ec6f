"""SampleWeight's parameters: FATE 1.11's SampleWeightParam (class_weight, sample_weight_name, normalize,
need_run). With neither class_weight nor sample_weight_name the rows pass through unweighted, as in FATE.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator


class SampleWeightParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "balanced" (n_samples / (n_classes * rows of the class)) or {label: weight}; labels not in the
    # dict weigh 1.
    class_weight: StrictStr | dict[str, StrictInt | StrictFloat] | None = None
    # A feature column holding each row's weight; it leaves the features. Wins over class_weight.
    sample_weight_name: StrictStr | None = None
    # Divide the sample_weight_name weights by their mean.
    normalize: StrictBool = False
    need_run: StrictBool = True

    @field_validator("class_weight", mode="before")
    @classmethod
    def _mode(cls, value: object) -> object:
        if isinstance(value, str):
            if value.lower() != "balanced":
                raise ValueError(
                    'a class_weight text must be "balanced"; give other weights as {"0": 1, "1": 2}'
                )
            return "balanced"
        return value

    @field_validator("class_weight", mode="after")
    @classmethod
    def _empty(cls, value: str | dict[str, float] | None) -> str | dict[str, float] | None:
        # FATE tests class_weight for truth: an empty dict means no class weights.
        return value or None

    @field_validator("sample_weight_name", mode="after")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return value or None
