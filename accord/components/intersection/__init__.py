"""FATE's Intersection module: the rows whose ids guest and hosts share (RSA blind signatures or raw)."""

from accord.components.intersection.component import Intersection
from accord.components.intersection.params import IntersectionParams

__all__ = ["Intersection", "IntersectionParams"]
