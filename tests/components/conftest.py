"""Fixtures the component tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.components.harness import ComponentHarness


@pytest.fixture
def harnesses() -> Iterator[list[ComponentHarness]]:
    """The harnesses a test starts, closed when it ends (a test appends each one it makes)."""
    made: list[ComponentHarness] = []
    yield made
    for harness in made:
        harness.close()
