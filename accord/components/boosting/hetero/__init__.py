"""HeteroSecureBoost and HeteroFastSecureBoost (FATE 1.11), guest and hosts."""

from accord.components.boosting.hetero.component import HeteroFastSecureBoost, HeteroSecureBoost

__all__ = ["HeteroFastSecureBoost", "HeteroSecureBoost"]
