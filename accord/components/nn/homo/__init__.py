"""HomoNN (FATE 1.11's horizontal neural network). Importing it imports no torch."""

from accord.components.nn.homo.component import HomoNN

__all__ = ["HomoNN"]
