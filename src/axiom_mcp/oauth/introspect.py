"""Token introspection (RFC 7662), for resource servers that run apart from this database, and
the seed's ``/oauth/validate``.

Who may introspect (RFC 7662 section 2.1 requires some authorization, section 4 warns about
token scanning):
- a confidential client authenticated with its secret may introspect any token: that is how a
  separately deployed resource server asks (register it once as a confidential client);
- a caller presenting a live bearer access token may introspect tokens of the same user and
  client (a client checking its own tokens); other tokens read as inactive to it;
- anyone else gets ``invalid_client`` (401).
Either way the caller must already hold the token it asks about; tokens carry 256 random bits,
so guessing through this endpoint is hopeless.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.tokens import TokenInfo
from axiom_mcp.db.tables import OAuthAccessToken, OAuthRefreshToken
from axiom_mcp.ids import utcnow
from axiom_mcp.oauth.errors import InvalidRequest
from axiom_mcp.oauth.params import Params
from axiom_mcp.oauth.token import MAX_CREDENTIAL_LENGTH
from axiom_mcp.security.secrets import hash_secret
from axiom_mcp.settings import Settings

INACTIVE: dict[str, Any] = {"active": False}


def _timestamp(value: Any) -> int:
    return int(value.timestamp())


async def describe(session: AsyncSession, settings: Settings, raw: str) -> dict[str, Any]:
    """RFC 7662 section 2.2 for one token: access tokens first, then refresh tokens."""
    if not raw or len(raw) > MAX_CREDENTIAL_LENGTH:
        return dict(INACTIVE)
    now = utcnow()
    digest = hash_secret(raw)
    access = await session.scalar(select(OAuthAccessToken).where(OAuthAccessToken.token_hash == digest))
    if access is not None:
        if access.revoked or access.expires <= now:
            return dict(INACTIVE)
        return {
            "active": True,
            "token_type": "Bearer",
            "scope": access.scopes,
            "client_id": access.client_id,
            "sub": access.user_id,
            "aud": access.resource,
            "iss": settings.issuer,
            "exp": _timestamp(access.expires),
            "iat": _timestamp(access.created),
        }
    refresh = await session.scalar(select(OAuthRefreshToken).where(OAuthRefreshToken.token_hash == digest))
    if refresh is None or refresh.revoked or refresh.successor_used or refresh.expires <= now:
        return dict(INACTIVE)
    return {
        "active": True,
        "token_type": "refresh_token",
        "scope": refresh.scopes,
        "client_id": refresh.client_id,
        "sub": refresh.user_id,
        "aud": refresh.resource,
        "iss": settings.issuer,
        "exp": _timestamp(refresh.expires),
        "iat": _timestamp(refresh.created),
    }


async def introspect(
    session: AsyncSession, settings: Settings, params: Params, *, bearer: TokenInfo | None
) -> dict[str, Any]:
    """RFC 7662 section 2.1. ``bearer`` is the caller's own token when it authenticated with one
    (None for an authenticated confidential client, which may ask about any token)."""
    raw = params.get("token")
    if raw is None:
        raise InvalidRequest("token is required.")
    answer = await describe(session, settings, raw)
    if bearer is not None and answer["active"]:
        if (answer["client_id"], answer["sub"]) != (bearer.client_id, bearer.user_id):
            return dict(INACTIVE)
    return answer


def validation(settings: Settings, info: TokenInfo) -> dict[str, Any]:
    """The seed's ``POST /oauth/validate`` answer for a live access token."""
    return {
        "valid": True,
        "user_id": info.user_id,
        "client_id": info.client_id,
        "scope": " ".join(sorted(info.scopes)),
        "resource": info.resource,
        "expires_at": info.expires.isoformat(),
        "iss": settings.issuer,
    }
