"""HeteroNN (FATE 1.11's hetero neural network); the entry point names this package's class."""

from accord.components.nn.hetero.component import HeteroNN

__all__ = ["HeteroNN"]
