"""LabelTransform's parameters: FATE 1.11's LabelTransformParam (names, defaults and checks)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, model_validator


class LabelTransformParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # {label: encoded label}; labels it does not name keep their value. None: labels in sorted order
    # become 0, 1, 2, ...
    label_encoder: dict[str, Any] | None = None
    # Every input label, for the types of label_encoder's keys (FATE); one per key when both are given.
    label_list: list[Any] | None = None
    need_run: StrictBool = True

    @model_validator(mode="after")
    def _lists(self) -> LabelTransformParam:
        # As FATE: an empty encoder or list is no encoder or list.
        if not self.label_encoder:
            self.label_encoder = None
        if (
            self.label_list is not None
            and self.label_encoder
            and len(self.label_list) != len(self.label_encoder)
        ):
            raise ValueError(
                f"label_list has {len(self.label_list)} labels but label_encoder has "
                f"{len(self.label_encoder)} keys; list every key of label_encoder once"
            )
        if not self.label_list:
            self.label_list = None
        return self
