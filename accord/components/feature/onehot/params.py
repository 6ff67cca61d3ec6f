"""OneHotEncoder's parameters: FATE 1.11's OneHotEncoderParam (names, defaults and checks)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, field_validator


class OneHotEncoderParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # -1: every feature column (transform_col_names then unused); a list: these indexes, then the names.
    transform_col_indexes: int | list[int] | None = -1
    transform_col_names: list[StrictStr] | None = None
    need_run: StrictBool = True

    @field_validator("transform_col_indexes")
    @classmethod
    def _indexes(cls, value: int | list[int] | None) -> int | list[int] | None:
        if isinstance(value, int) and value != -1:
            raise ValueError("must be -1 (every feature column) or a list of column indexes, e.g. [0, 3]")
        if isinstance(value, list) and any(index < 0 for index in value):
            raise ValueError("column indexes count from 0 (use -1 alone, not in a list, for every column)")
        return value
