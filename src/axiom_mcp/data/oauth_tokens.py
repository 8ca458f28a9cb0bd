"""Authorization codes being redeemed and refresh tokens, at rest as SHA-256 hashes.

The token endpoint's storage: the protocol rules (single use, rotation, reuse) are in
``oauth/token.py``; these functions only read and change rows, each one statement.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.tokens import MAX_CREDENTIAL_LENGTH
from axiom_mcp.db.tables import OAuthAuthorizationCode, OAuthRefreshToken
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret


async def find_code(session: AsyncSession, raw: str) -> OAuthAuthorizationCode | None:
    """The authorization code with this value, used or not."""
    if len(raw) > MAX_CREDENTIAL_LENGTH:
        return None
    return await session.scalar(
        select(OAuthAuthorizationCode).where(OAuthAuthorizationCode.code_hash == hash_secret(raw))
    )


async def burn_code(session: AsyncSession, code_id: str) -> bool:
    """Mark the code used; False when it already was (a replay, or a racing redemption won)."""
    result = await session.execute(
        update(OAuthAuthorizationCode)
        .where(OAuthAuthorizationCode.id == code_id, OAuthAuthorizationCode.used.is_(False))
        .values(used=True)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_refresh_token(
    session: AsyncSession,
    raw: str,
    *,
    grant_id: str,
    parent_id: str | None,
    client_id: str,
    user_id: str,
    scopes: str,
    resource: str | None,
    ttl: timedelta,
) -> None:
    """Store a new refresh token (its hash) in the grant's chain, after ``parent_id``."""
    now = utcnow()
    session.add(
        OAuthRefreshToken(
            token_hash=hash_secret(raw),
            grant_id=grant_id,
            parent_id=parent_id,
            client_id=client_id,
            user_id=user_id,
            scopes=scopes,
            resource=resource,
            created=now,
            expires=now + ttl,
        )
    )


async def find_refresh_token(session: AsyncSession, raw: str) -> OAuthRefreshToken | None:
    """The refresh token with this value, whatever its state."""
    if not raw or len(raw) > MAX_CREDENTIAL_LENGTH:
        return None
    return await session.scalar(select(OAuthRefreshToken).where(OAuthRefreshToken.token_hash == hash_secret(raw)))


async def mark_replaced(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Note the token's first exchange for a successor; False when it was exchanged before."""
    result = await session.execute(
        update(OAuthRefreshToken)
        .where(OAuthRefreshToken.id == token_id, OAuthRefreshToken.rotated_at.is_(None))
        .values(rotated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def replace_unused_successors(session: AsyncSession, parent_id: str, now: datetime) -> None:
    """Revoke the successors of ``parent_id`` nobody used yet, as replaced at ``now``."""
    await session.execute(
        update(OAuthRefreshToken)
        .where(OAuthRefreshToken.parent_id == parent_id, OAuthRefreshToken.rotated_at.is_(None))
        .values(revoked=True, rotated_at=now)
    )


async def retire(session: AsyncSession, token_id: str) -> None:
    """Note that the token's successor has been used: presenting it again is reuse."""
    await session.execute(update(OAuthRefreshToken).where(OAuthRefreshToken.id == token_id).values(successor_used=True))
