"""Small helpers every test folder uses: free loopback ports and polling for a condition."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")
_POLL_S = 0.1


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
