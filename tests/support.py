"""Small helpers every test folder uses: free loopback ports and polling for a condition."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from accord.security.local_token import ensure_local_token
from accord.settings import Settings

T = TypeVar("T")
_POLL_S = 0.1


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def loopback_settings(home: Path, **overrides: Any) -> Settings:
    """A standalone site's settings, every port it listens on a free loopback one (``overrides`` win)."""
    ports: dict[str, Any] = {
        "temporal_address": f"127.0.0.1:{free_port()}",
        "temporal_ui_port": free_port(),
        "http_port": free_port(),
        "federation_port": free_port(),
        "serving_port": free_port(),
    }
    return Settings(home=home, **{**ports, **overrides})


def local_credential(settings: Settings) -> dict[str, str]:
    """The header that lets a client into a standalone site's HTTP API (what the accord CLI sends)."""
    return {"Authorization": f"Bearer {ensure_local_token(settings.home)}"}


def wait_until(
    predicate: Callable[[], T], timeout_s: float, what: str, details: Callable[[], str] = lambda: ""
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail with ``details()`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {timeout_s:g} s\n{details()}", pytrace=False)
        time.sleep(_POLL_S)
