"""FATE's HomoLR: logistic regression on rows split between guests and hosts, with secure aggregation."""

from accord.components.homo_lr.component import HomoLR

__all__ = ["HomoLR"]
