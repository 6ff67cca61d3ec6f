"""FeatureScale: min-max or standard scaling of each party's own feature columns."""

from accord.components.feature_scale.component import FeatureScale

__all__ = ["FeatureScale"]
