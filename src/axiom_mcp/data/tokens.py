"""Access tokens at rest: issued as random strings, stored as SHA-256 hashes, looked up by hash.

The OAuth token endpoint, the API's login and every resource server (REST, MCP) share this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.db.tables import OAuthAccessToken
from axiom_mcp.ids import new_id, utcnow
from axiom_mcp.security.secrets import hash_secret, new_secret

ACCESS_TOKEN_PREFIX = "axat_"
FIRST_PARTY_CLIENT_ID = "axiom-api"
"""The client id of tokens the API's own login issues (not an OAuth client)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a verified access token grants."""

    token_id: str
    user_id: str
    client_id: str
    scopes: frozenset[str]
    resource: str | None
    expires: datetime
    grant_id: str


def _info(row: OAuthAccessToken) -> TokenInfo:
    return TokenInfo(
        token_id=row.id,
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=frozenset(row.scopes.split()),
        resource=row.resource,
        expires=row.expires,
        grant_id=row.grant_id,
    )


async def issue_access_token(
    session: AsyncSession,
    *,
    user_id: str,
    client_id: str,
    scopes: list[str] | tuple[str, ...],
    resource: str | None,
    ttl: timedelta,
    grant_id: str | None = None,
) -> tuple[str, TokenInfo]:
    """A new access token (the raw value, returned once) and what it grants."""
    raw = new_secret(ACCESS_TOKEN_PREFIX)
    row = OAuthAccessToken(
        token_hash=hash_secret(raw),
        grant_id=grant_id or new_id(),
        client_id=client_id,
        user_id=user_id,
        scopes=" ".join(scopes),
        resource=resource,
        expires=utcnow() + ttl,
    )
    session.add(row)
    await session.flush()
    return raw, _info(row)


async def find_access_token(session: AsyncSession, raw: str) -> TokenInfo | None:
    """The live (unrevoked, unexpired) token with this value, or None.

    Looked up by the hash's unique index: equality on a hash of a 256-bit secret leaks nothing
    useful through timing, and the raw token never reaches SQL.
    """
    if not raw or len(raw) > 512:
        return None
    row = await session.scalar(select(OAuthAccessToken).where(OAuthAccessToken.token_hash == hash_secret(raw)))
    if row is None or row.revoked or row.expires <= utcnow():
        return None
    return _info(row)


async def revoke_access_token(session: AsyncSession, raw: str) -> bool:
    result = await session.execute(
        update(OAuthAccessToken).where(OAuthAccessToken.token_hash == hash_secret(raw)).values(revoked=True)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
