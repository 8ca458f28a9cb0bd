"""``/.well-known/oauth-authorization-server[/issuer-path]``: the server's metadata (RFC 8414)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from axiom_mcp.auth_service.oauth_endpoints.endpoint import OAuthEndpoint
from axiom_mcp.context import AppContext
from axiom_mcp.oauth.metadata import authorization_server_metadata, metadata_paths


def routes(ctx: AppContext) -> list[BaseRoute]:
    async def metadata(_: Request) -> Response:
        body = authorization_server_metadata(ctx.settings)
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})

    endpoint = OAuthEndpoint({"GET": metadata}, cors=True)
    return [Route(path, endpoint) for path in metadata_paths(ctx.settings)]
