"""FATE's HeteroFeatureBinning (guest and hosts): split points, WOE and IV, and the binned rows."""

from accord.components.feature.hetero_binning.component import HeteroFeatureBinning

__all__ = ["HeteroFeatureBinning"]
