"""``/oauth/authorize``: GET validates a client's request and sends the browser to the consent page;
POST is a signed-in user's answer to it (the original's API, called with the login token); an
Allow may name the scopes the person kept (``scope``), as the consent page's checkboxes do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from axiom_mcp.auth_service.oauth_endpoints.endpoint import (
    OAuthEndpoint,
    client_address,
    form_params,
    in_session,
    json_response,
)
from axiom_mcp.context import AppContext
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID, TokenInfo, token_issued_at
from axiom_mcp.errors import ValidationFailed
from axiom_mcp.oauth import authorize, cimd
from axiom_mcp.oauth.errors import InvalidRequest, InvalidToken
from axiom_mcp.oauth.params import Params
from axiom_mcp.oauth.scopes import split_scope
from axiom_mcp.security.bearer import bearer_token

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

LONG_AGO = datetime.min.replace(tzinfo=UTC)
"""The login time of a token that vanished since it was verified: never a fresh login."""


def routes(ctx: AppContext, documents: cimd.MetadataDocuments) -> list[BaseRoute]:
    settings = ctx.settings

    async def start(request: Request) -> Response:
        params = Params.from_query(request.url.query)
        await documents.prefetch(ctx.db, params.get("client_id"), address=client_address(request))
        request_id = await in_session(ctx, lambda s: authorize.start(s, settings, params))
        return RedirectResponse(
            authorize.consent_url(settings, request_id), status_code=302, headers={"Cache-Control": "no-store"}
        )

    async def first_party_user(request: Request) -> TokenInfo:
        """The user behind a token from POST /api/v1/auth/login: only our own login may approve."""
        raw = bearer_token(request.headers.get("authorization"))
        info = await ctx.tokens.verify(raw) if raw else None
        if info is None or info.resource != settings.api_resource or info.client_id != FIRST_PARTY_CLIENT_ID:
            raise InvalidToken(
                "Send the token from POST /api/v1/auth/login as a bearer token.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return info

    async def answer(request: Request) -> Response:
        """A signed-in user's answer to a pending request."""
        user = await first_party_user(request)
        params = await form_params(request)
        request_id, decision = params.get("request_id"), params.get("decision")
        if request_id is None or decision not in ("allow", "deny"):
            raise InvalidRequest('Send request_id and decision ("allow" or "deny").')
        if decision == "allow":

            scope = params.get("scope")  # the scopes the person kept; absent: all it asked for

            async def allow(session: AsyncSession) -> str:
                # The token's issue is this user's last login: what prompt=login is checked against.
                issued = await token_issued_at(session, user.token_id)
                try:
                    return await authorize.approve(
                        session, settings, request_id, user.user_id, authenticated_at=issued or LONG_AGO,
                        granted=None if scope is None else split_scope(scope),
                    )
                except ValidationFailed as exc:
                    raise InvalidRequest(exc.message) from exc

            url = await in_session(ctx, allow)
        else:
            url = await in_session(ctx, lambda s: authorize.deny(s, settings, request_id))
        return json_response({"redirect_url": url})

    return [Route("/oauth/authorize", OAuthEndpoint({"GET": start, "POST": answer}, pages=["GET"]))]
