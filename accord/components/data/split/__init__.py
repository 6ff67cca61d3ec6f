"""HeteroDataSplit and HomoDataSplit: train / validate / test outputs with FATE 1.11's size semantics."""

from accord.components.data.split.component import HeteroDataSplit, HomoDataSplit

__all__ = ["HeteroDataSplit", "HomoDataSplit"]
