"""FeatureImputation's parameters: FATE 1.11's FeatureImputationParam, names, defaults and checks.

The methods are matched case-insensitively, as FATE lower-cases them; FATE's check accepts min, max,
mean and designated (its Imputer also knows median, which the parameter check refuses, so it is
refused here too).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, field_validator

FillMethod = Literal["min", "max", "mean", "designated"]
Scalar = int | float | str


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class FeatureImputationParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # designated's fill value: one for every column, or a list with one per feature column (by index).
    default_value: Scalar | list[Scalar] | None = 0
    # None: only the columns col_missing_fill_method names are imputed (none, when it is empty).
    missing_fill_method: FillMethod | None = None
    col_missing_fill_method: dict[str, FillMethod] | None = None
    # The values that count as missing; None: FATE's default list, which matches NaN cells.
    missing_impute: list[Any] | None = None
    need_run: StrictBool = True

    @field_validator("missing_fill_method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> Any:
        return _lower(value)

    @field_validator("col_missing_fill_method", mode="before")
    @classmethod
    def _methods(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: _lower(method) for key, method in value.items()}
        return value
