"""The chaos tests' site: the whole standalone stack as real processes, stopped even on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.standalone.stack import Stack
from tests.chaos.site import ChaosSite, chaos_settings, child_environment


@pytest.fixture
def chaos_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChaosSite]:
    calls_dir = tmp_path / "calls"
    child_environment(monkeypatch, calls_dir)
    site = ChaosSite(Stack(chaos_settings(tmp_path / "home")), calls_dir)
    try:
        site.up()
        yield site
    finally:
        site.http.close()
        # Also after a failed up: whatever did start must not outlive the test.
        site.stack.down()
