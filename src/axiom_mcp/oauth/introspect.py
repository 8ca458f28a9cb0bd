"""Token introspection (RFC 7662), for resource servers that run apart from this database, and
the original server's ``/oauth/validate``.

Who learns about a token (RFC 7662 section 2.1 requires some authorization, section 4 warns
about token scanning): its own client, and Axiom's own resource servers, the confidential clients
named in ``settings.introspection_clients`` (a separately deployed resource server is registered
as a confidential client and named there). Anyone else learns nothing: the answer is
``{"active": false}``, as for an unknown token, so a stolen token cannot be tested here.
- A confidential client authenticates with its secret (a public client's id proves nothing:
  ``invalid_client``);
- a caller presenting a live bearer access token asks as that token's client, about tokens of
  the same user only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.oauth_tokens import find_refresh_token
from axiom_mcp.data.tokens import TokenInfo, find_access_row
from axiom_mcp.ids import utcnow
from axiom_mcp.oauth.errors import InvalidRequest
from axiom_mcp.oauth.params import Params
from axiom_mcp.oauth.scopes import format_scope
from axiom_mcp.settings import Settings

INACTIVE: dict[str, Any] = {"active": False}


def _timestamp(value: Any) -> int:
    return int(value.timestamp())


async def describe(session: AsyncSession, settings: Settings, raw: str) -> dict[str, Any]:
    """RFC 7662 section 2.2 for one token: access tokens first, then refresh tokens."""
    now = utcnow()
    found = await find_access_row(session, raw)
    if found is not None:
        access, scopes = found
        if access.revoked or access.expires <= now:
            return dict(INACTIVE)
        return {
            "active": True,
            "token_type": "Bearer",
            "scope": format_scope(scopes),
            "client_id": access.client_id,
            "sub": access.user_id,
            "aud": access.resource,
            "iss": settings.issuer,
            "exp": _timestamp(access.expires),
            "iat": _timestamp(access.created),
        }
    refresh = await find_refresh_token(session, raw)
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


@dataclass(frozen=True)
class Asker:
    """Who asks: an authenticated client, or (``user_id`` set) the holder of a bearer token."""

    client_id: str
    user_id: str | None = None


def may_learn(settings: Settings, asker: Asker, answer: dict[str, Any]) -> bool:
    """Whether ``asker`` may be told about the token described by ``answer``."""
    if asker.user_id is None and asker.client_id in settings.introspection_clients:
        return True
    return answer["client_id"] == asker.client_id and asker.user_id in (None, answer["sub"])


async def introspect(session: AsyncSession, settings: Settings, params: Params, asker: Asker) -> dict[str, Any]:
    """RFC 7662 section 2.1: the token's description, or inactive to an asker with no right to it."""
    raw = params.get("token")
    if raw is None:
        raise InvalidRequest("token is required.")
    answer = await describe(session, settings, raw)
    if answer["active"] and not may_learn(settings, asker, answer):
        return dict(INACTIVE)
    return answer


def validation(settings: Settings, info: TokenInfo) -> dict[str, Any]:
    """The original server's ``POST /oauth/validate`` answer for a live access token."""
    return {
        "valid": True,
        "user_id": info.user_id,
        "client_id": info.client_id,
        "scope": " ".join(sorted(info.scopes)),
        "resource": info.resource,
        "expires_at": info.expires.isoformat(),
        "iss": settings.issuer,
    }
