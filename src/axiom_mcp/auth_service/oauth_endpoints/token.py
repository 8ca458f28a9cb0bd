"""``POST /oauth/token``: the authorization_code and refresh_token grants (RFC 6749 section 3.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from axiom_mcp.auth_service.oauth_endpoints.endpoint import (
    OAuthEndpoint,
    forget,
    form_params,
    in_session,
    json_response,
    prefetch_client,
)
from axiom_mcp.context import AppContext
from axiom_mcp.oauth.cimd import MetadataDocuments
from axiom_mcp.oauth import client_auth
from axiom_mcp.oauth import token as grants

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def routes(ctx: AppContext, documents: MetadataDocuments) -> list[BaseRoute]:
    async def token(request: Request) -> Response:
        params = await form_params(request)
        creds = client_auth.credentials(request.headers.get("authorization"), params)
        await prefetch_client(ctx, documents, request, creds)

        async def work(session: AsyncSession) -> grants.TokenResponse:
            client = await client_auth.authenticate(session, ctx.settings, creds)
            return await grants.token(session, ctx.settings, client, params)

        result = await in_session(ctx, work)
        forget(ctx, result.revoked)
        return json_response(result.body)

    return [Route("/oauth/token", OAuthEndpoint({"POST": token}, cors=True))]
