"""The parties' harnesses of the intersection tests: on each engine, or on the local engine alone for
the protocol variants (the engine-parametrized tests cover Spark)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.computing import LocalEngine
from accord.computing.table import Engine

from .test_intersection import Harnesses


@pytest.fixture
def harnesses(engine: Engine) -> Iterator[Harnesses]:
    made = Harnesses(engine)
    yield made
    for harness in made:
        harness.close()


@pytest.fixture
def local(local_engine: LocalEngine) -> Iterator[Harnesses]:
    made = Harnesses(local_engine)
    yield made
    for harness in made:
        harness.close()
