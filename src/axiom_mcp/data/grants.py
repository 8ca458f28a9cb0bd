"""Revoking what grants issued, in storage: the tokens of one authorization (a code and its
refresh chain), or every token of one user for one client."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.db.tables import OAuthAccessToken, OAuthAuthorizationCode, OAuthRefreshToken


async def revoke_grant_tokens(session: AsyncSession, grant_id: str) -> None:
    """Revoke every access and refresh token of one grant."""
    for table in (OAuthAccessToken, OAuthRefreshToken):
        await session.execute(update(table).where(table.grant_id == grant_id).values(revoked=True))


async def revoke_user_client_tokens(session: AsyncSession, user_id: str, client_id: str) -> None:
    """Revoke every token of one user for one client, and drop its codes not yet redeemed."""
    for table in (OAuthAccessToken, OAuthRefreshToken):
        await session.execute(
            update(table).where(table.user_id == user_id, table.client_id == client_id).values(revoked=True)
        )
    await session.execute(
        delete(OAuthAuthorizationCode).where(
            OAuthAuthorizationCode.user_id == user_id, OAuthAuthorizationCode.client_id == client_id
        )
    )
