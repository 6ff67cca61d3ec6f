"""DataStatistics: per-column statistics of each party's own features (FATE's summary and percentiles)."""

from accord.components.feature.statistics.component import DataStatistics

__all__ = ["DataStatistics"]
