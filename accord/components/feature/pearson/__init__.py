"""HeteroPearson: secure Pearson correlation between the guest's and a host's columns (FATE 1.11)."""

from accord.components.feature.pearson.component import HeteroPearson

__all__ = ["HeteroPearson"]
