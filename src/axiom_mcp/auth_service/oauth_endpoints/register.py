"""``POST /oauth/register``: dynamic client registration (RFC 7591), rate limited per address."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from axiom_mcp.auth_service.oauth_endpoints.endpoint import (
    OAuthEndpoint,
    client_address,
    in_session,
    json_response,
    read_body,
)
from axiom_mcp.context import AppContext
from axiom_mcp.oauth import registration
from axiom_mcp.oauth.errors import InvalidClientMetadata
from axiom_mcp.oauth.ratelimit import limit_registrations


def routes(ctx: AppContext) -> list[BaseRoute]:
    async def register(request: Request) -> Response:
        address = client_address(request)
        await limit_registrations(ctx.db, ctx.settings, address)
        body = await read_body(request, registration.MAX_REGISTRATION_BYTES, InvalidClientMetadata)
        info = await in_session(ctx, lambda s: registration.register(s, body, address=address))
        return json_response(info, 201)

    return [Route("/oauth/register", OAuthEndpoint({"POST": register}, cors=True))]
