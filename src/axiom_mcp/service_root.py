"""``GET /`` on the auth (8090) and MCP (8091) ports: where a person or a developer should go instead.

People land on these ports by accident (a link, a guess); a bare 404 tells them nothing. A browser
gets a short page pointing at the web app and naming the MCP URL to give an AI app; anything else
gets the same facts as JSON. In single-origin mode ``/`` is the web app's, so these never show.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from axiom_mcp.settings import Settings

_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

_WHAT = {
    "auth": "the sign-in (OAuth 2.1) and REST API service",
    "mcp": "the MCP server that AI apps connect to",
}


def facts(settings: Settings, service: str) -> dict[str, str]:
    """What the root of ``service`` tells its caller: what it is and the addresses that matter."""
    return {
        "service": f"axiom-{service}",
        "description": f"Axiom: {_WHAT[service]}.",
        "web_app": settings.web_url,
        "mcp_url": settings.mcp_resource,
        "authorization_server_metadata": f"{settings.issuer}/.well-known/oauth-authorization-server",
        "rest_api": f"{settings.public_url}/api/v1",
    }


def _page(settings: Settings, service: str) -> str:
    web = html.escape(settings.web_url, quote=True)
    mcp = html.escape(settings.mcp_resource)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Axiom</title></head>
<body>
<main>
<h1>This is Axiom's {html.escape(service.upper() if service == "mcp" else service)} service</h1>
<p>It is {html.escape(_WHAT[service])}, for apps rather than people.</p>
<p><a href="{web}">Open Axiom</a> to sign in, see your data and your connected apps.</p>
<p>To connect ChatGPT, Claude or another AI app, give it this MCP server URL: <code>{mcp}</code></p>
</main>
</body></html>
"""


def root_endpoint(settings: Settings, service: str) -> Callable[[Request], Awaitable[Response]]:
    """The ``GET /`` endpoint of ``service`` ("auth" or "mcp")."""

    async def root(request: Request) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(_page(settings, service), headers={"Content-Security-Policy": _PAGE_POLICY})
        return JSONResponse(facts(settings, service))

    return root
