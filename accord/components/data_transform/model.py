"""What DataTransform learns in fit and applies in predict, saved as plain JSON.

:class:`Settings` is how the rows are read (the parameters, overridden by a table's upload meta as FATE
1.9+ does); :class:`TransformModel` adds what fit found: the feature header, the label codes for text
labels, and the per-column missing-fill and outlier-replace values. Replacement values are kept as
text, as FATE keeps them, so a NaN fill (a mean over a column with no values) survives strict JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accord.components.data_transform.params import (
    DataTransformParam,
    DataType,
    ImputeList,
    InputFormat,
    OutputFormat,
    ReplaceMethod,
)
from accord.errors import DataMismatchError

MODEL_NAME: Literal["DataTransform"] = "DataTransform"
MODEL_FORMAT = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Settings(_Frozen):
    input_format: InputFormat
    delimitor: str
    data_type: DataType
    exclusive_data_type: dict[str, DataType] = {}
    tag_with_value: bool
    tag_value_delimitor: str
    with_label: bool
    label_name: str
    label_type: DataType
    output_format: OutputFormat
    with_match_id: bool
    match_id_name: str
    match_id_index: int
    # Dense: the columns an upload meta names as match ids. Sparse/tag: how many leading fields are ids.
    id_list: tuple[str, ...] = ()
    id_range: int = Field(default=0, ge=0)

    @classmethod
    def of(cls, params: DataTransformParam, meta: Mapping[str, Any] | None = None) -> Settings:
        """The parameters, with the fields a table's upload meta sets taken from the meta instead."""
        values: dict[str, Any] = {
            "input_format": params.input_format,
            "delimitor": params.delimitor,
            "data_type": params.data_type,
            "exclusive_data_type": dict(params.exclusive_data_type or {}),
            "tag_with_value": params.tag_with_value,
            "tag_value_delimitor": params.tag_value_delimitor,
            "with_label": params.with_label,
            "label_name": params.label_name,
            "label_type": params.label_type,
            "output_format": params.output_format,
            "with_match_id": params.with_match_id,
            "match_id_name": params.match_id_name or "",
            "match_id_index": params.match_id_index,
        }
        if meta:
            renamed = {"delimiter": "delimitor", "tag_value_delimiter": "tag_value_delimitor"}
            for key, value in meta.items():
                field = renamed.get(key, key)
                if field in ("id_list", "id_range") or (field in values and field not in _PARAM_ONLY):
                    values[field] = value
            if str(values["input_format"]).lower() == "svmlight":
                values["input_format"] = "sparse"
            values["id_list"] = values.get("id_list") or ()
            values["id_range"] = values.get("id_range") or 0
        return cls.model_validate(values)

    @field_validator("input_format", "data_type", "label_type", "output_format", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


# Chosen per job even when the upload meta describes the table.
_PARAM_ONLY = frozenset({"output_format", "match_id_name", "match_id_index"})


class Replacement(_Frozen):
    """One replacing pass (missing fill or outlier replace) as fit ran it."""

    enabled: bool = False
    method: ReplaceMethod | None = None
    # The cell values that count as missing / outliers; None for the built-in missing list.
    values: ImputeList | None = None
    # Column name -> the replacement, as text.
    fill: dict[str, str] = {}
    # Column name -> the share of rows replaced in the data fit ran on.
    rate: dict[str, float] = {}

    def fill_for(self, header: list[str]) -> list[str]:
        absent = [name for name in header if name not in self.fill]
        if absent:
            raise DataMismatchError(
                f"the DataTransform model has no replacement value for {', '.join(absent[:10])}",
                hint="retrain the DataTransform that produced the model",
            )
        return [self.fill[name] for name in header]


class TransformModel(_Frozen):
    module: Literal["DataTransform"] = MODEL_NAME
    format: int = MODEL_FORMAT
    need_run: bool = True
    settings: Settings | None = None
    header: list[str] = []
    sid_name: str = "id"
    # The label column's name in the output; None without labels.
    label_name: str | None = None
    # Text label -> the number it became (label_type "str" with labels that are not numbers).
    label_mapping: dict[str, int] | None = None
    missing: Replacement = Replacement()
    outlier: Replacement = Replacement()

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, model: Mapping[str, Any], *, component: str) -> TransformModel:
        try:
            loaded = cls.model_validate(dict(model))
        except ValidationError:
            raise DataMismatchError(
                f"{component} was given a model that is not a DataTransform model "
                f"(its keys: {', '.join(sorted(model)) or 'none'})",
                hint="wire the model output of the DataTransform that ran on the training data",
            ) from None
        return loaded
