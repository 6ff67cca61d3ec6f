"""FTL (FATE 1.11's hetero federated transfer learning); the entry point names this package's class."""

from accord.components.nn.ftl.component import FTL

__all__ = ["FTL"]
