"""FATE's LocalBaseline: scikit-learn's LogisticRegression on the guest's own data."""

from accord.components.linear.local_baseline.component import LocalBaseline

__all__ = ["LocalBaseline"]
