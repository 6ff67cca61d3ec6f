"""PositiveUnlabeled: FATE 1.11's relabeling of unlabeled rows by a model's scores."""

from accord.components.data.positive_unlabeled.component import PositiveUnlabeled

__all__ = ["PositiveUnlabeled"]
