"""Debian's Chromium driven by Playwright, and where the tests put their screenshots.

Playwright cannot download its own browser here; it launches the system's (``.ci/run`` installs
Debian's ``chromium`` when absent). Screenshots go to ``$ACCORD_TEST_ARTIFACTS/board`` when set (CI
keeps that folder), else to the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("ACCORD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def artifacts(tmp_path: Path) -> Path:
    root = os.environ.get("ACCORD_TEST_ARTIFACTS")
    folder = Path(root) / "board" if root else tmp_path / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium_page(viewport: tuple[int, int] = (1440, 1000)) -> Iterator[Any]:
    """A fresh browser page; the browser is closed afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            page = context.new_page()
            page.set_default_timeout(30_000)
            # Offline, as the board must work: nothing but the site itself is reachable.
            page.route("**/*", _loopback_only)
            yield page
        finally:
            browser.close()


def _loopback_only(route: Any) -> None:
    from urllib.parse import urlsplit

    host = urlsplit(route.request.url).hostname or ""
    if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def chart_series(page: Any, selector: str) -> list[list[list[float]]]:
    """The data of every series of the ECharts chart in ``selector``, as the page drew it."""
    series: list[list[list[float]]] = page.eval_on_selector(
        selector,
        "el => echarts.getInstanceByDom(el).getOption().series.map(s => s.data)",
    )
    return series
