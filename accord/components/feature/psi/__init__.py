"""PSI: population stability index of each feature between two tables (FATE 1.11's PSI)."""

from accord.components.feature.psi.component import PSI

__all__ = ["PSI"]
