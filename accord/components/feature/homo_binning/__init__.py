"""HomoFeatureBinning: split points over the union of every client's rows, found through the arbiter."""

from accord.components.feature.homo_binning.component import HomoFeatureBinning

__all__ = ["HomoFeatureBinning"]
