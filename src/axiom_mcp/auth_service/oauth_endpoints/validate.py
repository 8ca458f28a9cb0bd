"""``POST /oauth/validate``: the original's check of a live access token (bearer, form or JSON)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from axiom_mcp.auth_service.oauth_endpoints.endpoint import OAuthEndpoint, form_params, json_response
from axiom_mcp.context import AppContext
from axiom_mcp.oauth import introspect
from axiom_mcp.oauth.errors import InvalidToken
from axiom_mcp.security.bearer import bearer_token


def routes(ctx: AppContext) -> list[BaseRoute]:
    async def validate(request: Request) -> Response:
        params = await form_params(request)
        raw = bearer_token(request.headers.get("authorization")) or params.get("token") or params.get("access_token")
        info = await ctx.tokens.verify(raw) if raw else None
        if info is None:
            raise InvalidToken("The token is invalid, expired or revoked.")
        return json_response(introspect.validation(ctx.settings, info))

    return [Route("/oauth/validate", OAuthEndpoint({"POST": validate}))]
