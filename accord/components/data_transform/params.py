"""DataTransform's parameters: FATE 1.11's DataTransformParam, every field with FATE's name and default.

The legacy ``DataIO`` module takes a subset of these fields (no match-id fields), so one model serves
both. Enumerated fields are matched case-insensitively, as FATE lower-cases them before checking; the
booleans FATE type-checks (``missing_fill``, ``with_label``, ``with_match_id``) must be JSON booleans.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

InputFormat = Literal["dense", "sparse", "tag"]
OutputFormat = Literal["dense", "sparse"]
DataType = Literal["int", "int64", "float", "float64", "str", "long"]
ReplaceMethod = Literal["min", "max", "mean", "designated"]
# A value a conf may name as missing/outlier or give as a replacement: JSON scalars.
Scalar = int | float | str
ImputeList = list[Scalar | None]
ReplaceValue = Scalar | list[Scalar | None] | None

INT_TYPES = frozenset({"int", "int64", "long"})


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class DataTransformParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_format: InputFormat = "dense"
    # FATE's spelling: "delimitor".
    delimitor: str = ","
    data_type: DataType = "float64"
    exclusive_data_type: dict[str, DataType] | None = None
    tag_with_value: bool = False
    tag_value_delimitor: str = ":"
    missing_fill: StrictBool = False
    default_value: ReplaceValue = 0
    missing_fill_method: ReplaceMethod | None = None
    missing_impute: ImputeList | None = None
    outlier_replace: bool = False
    outlier_replace_method: ReplaceMethod | None = None
    outlier_impute: ImputeList | None = None
    outlier_replace_value: ReplaceValue = 0
    with_label: StrictBool = False
    label_name: str = "y"
    label_type: DataType = "int"
    output_format: OutputFormat = "dense"
    need_run: bool = True
    with_match_id: StrictBool = False
    match_id_name: str | None = ""
    match_id_index: int = Field(default=0, ge=0)

    @field_validator(
        "input_format",
        "output_format",
        "data_type",
        "label_type",
        "missing_fill_method",
        "outlier_replace_method",
        mode="before",
    )
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return _lower(value)

    @field_validator("exclusive_data_type", mode="before")
    @classmethod
    def _lower_types(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: _lower(kind) for key, kind in value.items()}
        return value

    @field_validator("missing_impute", "outlier_impute", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        # FATE's own examples write a single value ("outlier_impute": "-9999"); it means a one-item list.
        if value is None or isinstance(value, list):
            return value
        return [value]

    @field_validator("delimitor", "tag_value_delimitor")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value
