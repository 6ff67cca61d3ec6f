"""HeteroDataSplit / HomoDataSplit parameters: FATE 1.11's DataSplitParam, its names, defaults and checks.

A size is an int (a count of rows) or a float (a share of the rows, 0 to 1); JSON keeps the difference
(``30`` against ``0.3``) and so does this model, because FATE's arithmetic depends on it. When all three
sizes are left out FATE uses train 0.8, validate 0.2, test 0.0; any other None is filled from the others
when the rows are known (:func:`accord.components.data.split.sizes.resolve`).
"""

from __future__ import annotations

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

Size = StrictInt | StrictFloat


class DataSplitParam(BaseModel):
    model_config = ConfigDict(extra="forbid")

    random_state: StrictInt | None = None
    test_size: Size | None = None
    train_size: Size | None = None
    validate_size: Size | None = None
    stratified: StrictBool = False
    shuffle: StrictBool = True
    split_points: list[StrictInt | StrictFloat] | None = None
    need_run: StrictBool = True

    @field_validator("random_state")
    @classmethod
    def _seed(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise ValueError("random_state is a seed: a whole number of 0 or more")
        return value

    @field_validator("test_size", "train_size", "validate_size")
    @classmethod
    def _size(cls, value: int | float | None) -> int | float | None:
        if value is None:
            return value
        if value < 0:
            raise ValueError(
                "a size is a count of rows (int) or a share of them (float, 0 to 1), never negative"
            )
        if isinstance(value, float) and value > 1:
            raise ValueError("a float size is a share of the rows between 0 and 1; give a count as an int")
        return value

    @model_validator(mode="after")
    def _defaults(self) -> DataSplitParam:
        # FATE's check(): no size given at all means 80% train and 20% validate.
        if self.test_size is None and self.train_size is None and self.validate_size is None:
            self.test_size, self.train_size, self.validate_size = 0.0, 0.8, 0.2
        return self

    def sorted_split_points(self) -> list[float] | None:
        return None if self.split_points is None else sorted(float(point) for point in self.split_points)
