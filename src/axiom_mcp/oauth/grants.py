"""Revoking what a grant issued: the tokens of one authorization (a code and its refresh chain), or
of one user and client. The caller makes the in-process token cache forget them (``Revoked``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import grants
from axiom_mcp.oauth.errors import Revoked


async def revoke_grant(session: AsyncSession, grant_id: str) -> Revoked:
    """Revoke every access and refresh token issued from one authorization code (RFC 6749 10.5,
    OAuth 2.1 4.1.3, RFC 9700 4.14.2: a replayed code or a reused refresh token kills the grant)."""
    await grants.revoke_grant_tokens(session, grant_id)
    return Revoked(grant_id=grant_id)


async def revoke_user_client(session: AsyncSession, user_id: str, client_id: str) -> Revoked:
    """Revoke every token of one user for one client, and drop codes not yet redeemed."""
    await grants.revoke_user_client_tokens(session, user_id, client_id)
    return Revoked(user_id=user_id, client_id=client_id)
