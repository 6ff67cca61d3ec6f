"""Fixtures of the standalone tests: a site on free ports with stand-in server and worker processes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.settings import Settings
from accord.standalone.stack import Stack
from tests.support import loopback_settings
from tests.temporal_env import temporal_env  # noqa: F401  (the session fixture)

STANDINS = str(Path(__file__).with_name("standins.py"))
SERVER_ARGV = [sys.executable, STANDINS, "server"]
WORKER_ARGV = [sys.executable, STANDINS, "worker"]


def site_settings(home: Path, **overrides: object) -> Settings:
    return loopback_settings(home, **overrides)


def standin_stack(settings: Settings) -> Stack:
    return Stack(settings, server_argv=SERVER_ARGV, worker_argv=WORKER_ARGV)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return site_settings(tmp_path / "home")


@pytest.fixture
def stack(settings: Settings) -> Iterator[Stack]:
    stack = standin_stack(settings)
    yield stack
    stack.down()
