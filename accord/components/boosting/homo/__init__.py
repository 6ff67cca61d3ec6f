"""HomoSecureBoost: boosted trees over horizontally split data, histograms summed by secure aggregation."""

from accord.components.boosting.homo.component import HomoSecureBoost

__all__ = ["HomoSecureBoost"]
