"""LabelTransform: labels re-encoded on the guest (label_encoder), and predictions mapped back."""

from accord.components.data.label_transform.component import LabelTransform

__all__ = ["LabelTransform"]
