"""Who is calling the API: a bearer access token whose audience is the API, and its scopes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request

from axiom_mcp.auth_service.rest_api.activity import TOKEN_STATE
from axiom_mcp.context import AppContext
from axiom_mcp.data.access import View
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID, TokenInfo
from axiom_mcp.errors import AuthenticationFailed, PermissionDenied
from axiom_mcp.security.bearer import bearer_token

REALM = "Axiom API"


class TokenMissing(AuthenticationFailed):
    """No bearer token at all: RFC 6750 section 3.1 says to send no error code then."""


def require_scope(scope: str) -> Callable[[Request], Coroutine[Any, Any, TokenInfo]]:
    """A FastAPI dependency: the caller's token, which must be live, for the API, and carry ``scope``."""

    async def dependency(request: Request) -> TokenInfo:
        ctx: AppContext = request.app.state.ctx
        raw = bearer_token(request.headers.get("authorization"))
        if raw is None:
            raise TokenMissing("A bearer token is required.")
        info = await ctx.tokens.verify(raw)
        if info is None or info.resource != ctx.settings.api_resource:
            raise AuthenticationFailed("The token is invalid, expired, revoked or not for this API.")
        setattr(request.state, TOKEN_STATE, info)  # the caller, for the activity record
        if scope not in info.scopes:
            raise PermissionDenied(f"The token lacks the {scope!r} scope.", scope=scope)
        return info

    return dependency


def require_view(scope: str) -> Callable[[Request], Coroutine[Any, Any, View]]:
    """A FastAPI dependency: ``require_scope``, then what the token's connection sees (the API's
    own tokens: everything; an OAuth app's: its consent's profile, data/access.py)."""
    token_of = require_scope(scope)

    async def dependency(request: Request) -> View:
        token = await token_of(request)
        ctx: AppContext = request.app.state.ctx
        return await ctx.views.of(token.user_id, token.client_id)

    return dependency


async def require_api_token(request: Request) -> TokenInfo:
    """A FastAPI dependency: the caller's token, which must be one of the API's own (from login)."""
    ctx: AppContext = request.app.state.ctx
    raw = bearer_token(request.headers.get("authorization"))
    if raw is None:
        raise TokenMissing("A bearer token is required.")
    info = await ctx.tokens.verify(raw)
    if info is None or info.resource != ctx.settings.api_resource:
        raise AuthenticationFailed("The token is invalid, expired, revoked or not for this API.")
    if info.client_id != FIRST_PARTY_CLIENT_ID:
        raise PermissionDenied("Only a token from POST /api/v1/auth/login may manage API tokens.")
    return info
