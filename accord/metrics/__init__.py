"""Operations metrics for Prometheus: the site's collector, per-process counters and the route.

See :mod:`accord.metrics.process` (how the worker's counters reach the server) and
:mod:`accord.metrics.collector` (what is exported).
"""

from accord.metrics.collector import SiteCollector
from accord.metrics.exposition import METRICS_PATH, metrics_router, site_registry
from accord.metrics.process import ProcessMetrics, Snapshot, metrics_directory

__all__ = [
    "METRICS_PATH",
    "ProcessMetrics",
    "SiteCollector",
    "Snapshot",
    "metrics_directory",
    "metrics_router",
    "site_registry",
]
