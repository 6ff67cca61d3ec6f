"""``/docs`` with Swagger UI's files served by the site itself, so the page works offline.

FastAPI's default page loads Swagger UI from a CDN and stays blank without one. The files are Swagger
UI 5's prebuilt distribution (npm ``swagger-ui-dist``, Apache-2.0, with its LICENSE and NOTICE) in
``static/vendor/swagger-ui``; version 5 because the API's document is OpenAPI 3.1.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

DOCS = "/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


ASSETS = Path(__file__).parent / "static" / "vendor" / "swagger-ui"


def asset_paths() -> list[str]:
    return [f"{DOCS}/static/{name}" for name in _ASSETS]


def install_docs(app: FastAPI) -> list[str]:
    """Adds ``/docs`` (the app must be made with ``docs_url=None``); returns the paths it serves."""

    @app.get(DOCS, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{DOCS}/static/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS}/static/swagger-ui.css",
            swagger_favicon_url=f"{DOCS}/static/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT,
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(f"{DOCS}/static/{{name}}", include_in_schema=False)
    async def asset(name: str) -> Response:
        media = _ASSETS.get(name)
        if media is None:
            content = {"retcode": 404, "retmsg": f"no file {name[:100]}", "data": None, "jobId": None}
            return JSONResponse(content, status_code=404)
        return FileResponse(ASSETS / name, media_type=media)

    return [DOCS, OAUTH2_REDIRECT, *asset_paths()]
