"""FederatedSample: down- or up-sampling of rows, the same ids on every party (FATE 1.11's Sampler)."""

from accord.components.data.sample.component import FederatedSample

__all__ = ["FederatedSample"]
