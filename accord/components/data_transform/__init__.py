"""DataTransform (and the legacy DataIO): a Reader's raw rows to float64 feature rows with labels."""

from accord.components.data_transform.component import DataTransform
from accord.components.data_transform.model import TransformModel
from accord.components.data_transform.params import DataTransformParam

__all__ = ["DataTransform", "DataTransformParam", "TransformModel"]
