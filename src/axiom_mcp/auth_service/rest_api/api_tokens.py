"""REST routes for the API's own tokens: list them, revoke one, sign out (``/api/v1/auth``).

A token from ``POST /api/v1/auth/login`` carries every scope for ``settings.access_token_ttl``, so
its holder can see and end it; a password change ends all of them (``users.change_password``).
Only an API token may manage API tokens: an app's OAuth token for the API cannot.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from axiom_mcp.auth_service.rest_api.auth import require_api_token
from axiom_mcp.context import AppContext
from axiom_mcp.data import tokens
from axiom_mcp.data.tokens import ApiToken, TokenInfo


class ApiTokens(BaseModel):
    items: list[ApiToken]


def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def build_api_token_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/auth", tags=["accounts"])

    @router.get("/tokens", response_model=ApiTokens, summary="Your live API tokens (from logging in), newest first")
    async def list_tokens(request: Request, holder: TokenInfo = Depends(require_api_token)) -> ApiTokens:
        async with _ctx(request).db.session() as session:
            return ApiTokens(items=await tokens.list_api_tokens(session, holder.user_id, holder.token_id))

    @router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of your API tokens")
    async def revoke_token(request: Request, token_id: str, holder: TokenInfo = Depends(require_api_token)) -> Response:
        ctx = _ctx(request)
        async with ctx.db.session() as session:
            await tokens.revoke_api_token(session, holder.user_id, token_id[:64])
        ctx.tokens.forget(user_id=holder.user_id, client_id=holder.client_id)
        return Response(status_code=204)

    @router.post("/logout", status_code=204, summary="Revoke the API token of this request")
    async def logout(request: Request, holder: TokenInfo = Depends(require_api_token)) -> Response:
        ctx = _ctx(request)
        async with ctx.db.session() as session:
            await tokens.revoke_api_token(session, holder.user_id, holder.token_id)
        ctx.tokens.forget(user_id=holder.user_id, client_id=holder.client_id)
        return Response(status_code=204)

    return router
