"""``POST /oauth/revoke``: token revocation (RFC 7009), for OAuth clients and for the holders of
the API's own tokens (``client_id=axiom-api``, a public client)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from axiom_mcp.auth_service.oauth_endpoints.endpoint import (
    NO_STORE,
    OAuthEndpoint,
    forget,
    form_params,
    in_session,
    prefetch_client,
)
from axiom_mcp.context import AppContext
from axiom_mcp.oauth.cimd import MetadataDocuments
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.oauth import client_auth, revoke
from axiom_mcp.oauth.errors import Revoked

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def routes(ctx: AppContext, documents: MetadataDocuments) -> list[BaseRoute]:
    async def revoke_token(request: Request) -> Response:
        params = await form_params(request)
        creds = client_auth.credentials(request.headers.get("authorization"), params)
        if creds.client_id == FIRST_PARTY_CLIENT_ID and creds.secret is None:
            forget(ctx, await in_session(ctx, lambda s: revoke.revoke_api_token(s, params)))
            return Response(status_code=200, headers=NO_STORE)
        await prefetch_client(ctx, documents, request, creds)

        async def work(session: AsyncSession) -> list[Revoked]:
            client = await client_auth.authenticate(session, ctx.settings, creds)
            return await revoke.revoke(session, client, params)

        forget(ctx, await in_session(ctx, work))
        return Response(status_code=200, headers=NO_STORE)

    return [Route("/oauth/revoke", OAuthEndpoint({"POST": revoke_token}, cors=True))]
