"""``POST /oauth/introspect``: token introspection (RFC 7662) for a confidential client or the
holder of a live bearer token; who learns what is ``oauth/introspect.py``'s rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from axiom_mcp.auth_service.oauth_endpoints.endpoint import (
    OAuthEndpoint,
    form_params,
    in_session,
    json_response,
    prefetch_client,
)
from axiom_mcp.context import AppContext
from axiom_mcp.oauth.cimd import MetadataDocuments
from axiom_mcp.oauth import client_auth, introspect
from axiom_mcp.oauth.errors import InvalidClient, InvalidToken
from axiom_mcp.security.bearer import bearer_token, names_bearer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def routes(ctx: AppContext, documents: MetadataDocuments) -> list[BaseRoute]:
    async def introspect_token(request: Request) -> Response:
        params = await form_params(request)
        authorization = request.headers.get("authorization", "")
        asker: introspect.Asker | None = None
        if names_bearer(authorization):
            bearer = await ctx.tokens.verify(bearer_token(authorization) or "")
            if bearer is None:
                raise InvalidToken(
                    "The bearer token is invalid.", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
                )
            asker = introspect.Asker(bearer.client_id, bearer.user_id)
        creds = None if asker else client_auth.credentials(authorization, params)
        if creds is not None:
            await prefetch_client(ctx, documents, request, creds)

        async def work(session: AsyncSession) -> dict[str, Any]:
            if creds is None:
                assert asker is not None
                return await introspect.introspect(session, ctx.settings, params, asker)
            client = await client_auth.authenticate(session, ctx.settings, creds)
            if not client.is_confidential:
                raise InvalidClient(
                    "Introspection needs a confidential client's credentials or a bearer token.",
                    headers=client_auth.BASIC_CHALLENGE,
                )
            return await introspect.introspect(session, ctx.settings, params, introspect.Asker(client.client_id))

        return json_response(await in_session(ctx, work))

    return [Route("/oauth/introspect", OAuthEndpoint({"POST": introspect_token}))]
