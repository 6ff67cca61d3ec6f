"""FATE's HeteroKmeans: k-means over vertically split features, distances summed securely."""

from accord.components.kmeans.component import HeteroKmeans

__all__ = ["HeteroKmeans"]
