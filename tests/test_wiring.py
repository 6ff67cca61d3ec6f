"""The server and the worker open a site's stores through one factory (accord.wiring.SiteStores)."""

from __future__ import annotations

import ast
from pathlib import Path

from accord.persistence import Database
from accord.settings import Settings
from accord.wiring import SiteStores

PACKAGE = Path(__file__).resolve().parents[1] / "accord"
STORE_CLASSES = ("Repository", "Store", "Mailbox")


def _constructed(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name.endswith(STORE_CLASSES) and name != "SiteStores" and not name.startswith("_"):
                names.append(name)
    return names


def test_server_and_worker_build_no_store_of_their_own() -> None:
    for process in ("server.py", "worker.py"):
        assert _constructed(PACKAGE / process) == [], process


def test_the_stores_live_under_the_sites_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    database = Database(settings.resolved_database_url)
    database.migrate()
    try:
        stores = SiteStores.open(settings, database)
        assert stores.tables.root == tmp_path / "tables"
        assert stores.mailbox.root == tmp_path / "transfer"
    finally:
        database.dispose()
