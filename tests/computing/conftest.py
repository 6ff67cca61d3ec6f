"""The table tests run on the engines of tests/engines.py (fixtures local_engine, spark_engine, engine)."""

from __future__ import annotations

from tests.engines import PARTITIONS, TEST_SPARK_CONF

__all__ = ["PARTITIONS", "TEST_SPARK_CONF"]
