"""FeatureImputation: fill missing feature cells (a designated value, or a column's min, max or mean)."""

from accord.components.feature.imputation.component import FeatureImputation

__all__ = ["FeatureImputation"]
