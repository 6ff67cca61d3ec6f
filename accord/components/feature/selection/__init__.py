"""HeteroFeatureSelection: FATE's feature filters on the isometric models of binning and statistics."""

from accord.components.feature.selection.component import HeteroFeatureSelection

__all__ = ["HeteroFeatureSelection"]
