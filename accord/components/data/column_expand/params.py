"""ColumnExpand's parameters: FATE 1.11's ColumnExpandParam (names, defaults and checks)."""

from __future__ import annotations

from typing import Any

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

Fill = StrictInt | StrictFloat | StrictStr


class ColumnExpandParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The new columns' names; None or empty: the rows pass through unchanged.
    append_header: list[StrictStr] | None = None
    # FATE knows one method, "manual": every row gets fill_value in the new columns.
    method: StrictStr = "manual"
    # One value for every new column, or a list with one per name of append_header.
    fill_value: Fill | list[Fill] = 1e-8
    need_run: StrictBool = True

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lower() != "manual":
                raise ValueError(f"method {value!r} is not one ColumnExpand knows; use 'manual'")
            return "manual"
        return value

    @model_validator(mode="after")
    def _lengths(self) -> ColumnExpandParam:
        if isinstance(self.fill_value, list) and len(self.fill_value) != len(self.append_header or []):
            raise ValueError(
                f"fill_value lists {len(self.fill_value)} values for {len(self.append_header or [])} "
                "append_header names; give one value per name (or a single value for all)"
            )
        return self

    @property
    def fill_texts(self) -> list[str]:
        """The text each new column holds, as FATE writes the values (Python's str of each)."""
        names = self.append_header or []
        values = self.fill_value if isinstance(self.fill_value, list) else [self.fill_value] * len(names)
        return [str(value) for value in values]
