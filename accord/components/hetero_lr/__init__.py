"""FATE's HeteroLR: logistic regression on features split between a guest and hosts."""

from accord.components.hetero_lr.component import HeteroLR

__all__ = ["HeteroLR"]
