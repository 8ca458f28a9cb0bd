"""Pending authorization requests (waiting for the user's answer) and the codes an answer issues
(RFC 6749 section 4.1). Rows are found by the hash of their secret, never by the secret itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.db.tables import OAuthAuthorizationCode, OAuthAuthorizationRequest


async def add_request(session: AsyncSession, **values: Any) -> None:
    """Store a validated authorization request; ``values`` are ``OAuthAuthorizationRequest`` attributes."""
    session.add(OAuthAuthorizationRequest(**values))
    await session.flush()


async def find_request(session: AsyncSession, request_hash: str) -> OAuthAuthorizationRequest | None:
    return await session.scalar(
        select(OAuthAuthorizationRequest).where(OAuthAuthorizationRequest.request_hash == request_hash)
    )


async def take_request(session: AsyncSession, request: OAuthAuthorizationRequest) -> bool:
    """Delete the request; False when another answer deleted it first."""
    result = await session.execute(
        delete(OAuthAuthorizationRequest).where(OAuthAuthorizationRequest.id == request.id)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def add_code(session: AsyncSession, **values: Any) -> None:
    """Store an issued authorization code; ``values`` are ``OAuthAuthorizationCode`` attributes."""
    session.add(OAuthAuthorizationCode(**values))
    await session.flush()
