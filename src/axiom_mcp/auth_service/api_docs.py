"""The API docs at /docs: Swagger UI served by Axiom itself, from the files the installed
``fastapi-offline`` package ships (Swagger UI 5, which reads FastAPI's OpenAPI 3.1), under a strict
Content-Security-Policy.

The docs share the auth origin with the OAuth endpoints, so no script from another origin may run
there (a CDN is a third party, and unreachable offline), and no inline script either: the page is
static HTML whose scripts are files of this origin. Production serves no docs unless
``AXIOM_API_DOCS=true`` (``Settings.serves_api_docs``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
_SWAGGER_UI = Path(str(files("fastapi_offline") / "static"))
_ASSETS = {
    "swagger-ui.css": _SWAGGER_UI / "swagger-ui.css",
    "swagger-ui-bundle.js": _SWAGGER_UI / "swagger-ui-bundle.js",
    "favicon.png": _SWAGGER_UI / "favicon.png",
    "docs-init.js": Path(__file__).parent / "static" / "docs-init.js",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Swagger UI sets style attributes (hence ``'unsafe-inline'`` for styles only) and draws its icons
as data: images; it fetches only the OpenAPI document, from this origin."""
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _page(openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Axiom API</title>
<link rel="icon" href="{ASSETS_PATH}/favicon.png">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_PATH}/docs-init.js" data-openapi="{openapi_url}"></script>
</body></html>
"""


def install_api_docs(app: FastAPI) -> None:
    """Serve /docs and its assets on ``app`` (whose ``openapi_url`` the page loads)."""
    page = _page(app.openapi_url or "/openapi.json")

    async def docs(_: Request) -> Response:
        return HTMLResponse(page, headers={**HEADERS, "Cache-Control": "no-cache"})

    async def asset(request: Request) -> Response:
        path = _ASSETS.get(request.path_params["name"])
        if path is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return FileResponse(path, headers={**HEADERS, "Cache-Control": "public, max-age=3600"})

    app.add_route(DOCS_PATH, docs, methods=["GET"], include_in_schema=False)
    app.add_route(f"{ASSETS_PATH}/{{name}}", asset, methods=["GET"], include_in_schema=False)
