"""A site's API behind a real uvicorn, started the way ``accord server`` starts it, for CLI tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from accord.api.app import create_app
from accord.server import Site


def full_app(site: Site) -> Any:
    """The app with every router ``accord server`` wires (see accord.server.run_server)."""
    return create_app(
        site.jobs,
        tracking=site.tracking,
        tables=site.tables,
        deployment=site.deployment,
        models=site.models,
        serving=site.serving,
    )


@asynccontextmanager
async def serve_http(app: Any, host: str, port: int) -> AsyncIterator[str]:
    """``app`` on ``host:port`` until the block ends; yields the server's base URL."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    config.load()
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    try:
        yield f"http://{host}:{port}"
    finally:
        await server.shutdown()
