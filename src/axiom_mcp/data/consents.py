"""Consents at rest: which user allowed which client which scopes, and whether it sees only the
items of a client profile (the "connected apps").

Scopes are stored as the space-separated string of RFC 6749 section 3.3; merging them is the
OAuth core's rule (``oauth/consents.py``).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.upsert import insert_if_absent
from axiom_mcp.db.tables import OAuthClient, OAuthConsent
from axiom_mcp.ids import utcnow


def _of(user_id: str, client_id: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (OAuthConsent.user_id == user_id, OAuthConsent.client_id == client_id)


async def add_consent(
    session: AsyncSession, user_id: str, client_id: str, *, scopes: str, restricted: bool, profile_id: str | None
) -> bool:
    """Record a first consent; False when the user had already consented to this client."""
    now = utcnow()
    return await insert_if_absent(
        session,
        OAuthConsent,
        {"user_id": user_id, "client_id": client_id, "scopes": scopes, "restricted": restricted,
         "profile_id": profile_id, "created": now, "updated": now},
        ["user_id", "client_id"],
    )


async def find_consent(session: AsyncSession, user_id: str, client_id: str) -> OAuthConsent | None:
    return await session.scalar(select(OAuthConsent).where(*_of(user_id, client_id)))


async def set_consent(
    session: AsyncSession, user_id: str, client_id: str, *, scopes: str, restricted: bool, profile_id: str | None
) -> bool:
    """Replace what the consent allows: its scopes and what the app sees; False when there is none."""
    result = await session.execute(
        update(OAuthConsent).where(*_of(user_id, client_id))
        .values(scopes=scopes, restricted=restricted, profile_id=profile_id, updated=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def touch_consent(session: AsyncSession, user_id: str, client_id: str) -> None:
    """Note that the app used its access (a token was issued or refreshed)."""
    await session.execute(update(OAuthConsent).where(*_of(user_id, client_id)).values(last_used=utcnow()))


async def consents_with_clients(session: AsyncSession, user_id: str) -> list[tuple[OAuthConsent, OAuthClient | None]]:
    """The user's consents, most recently approved first, each with its client (None once reaped)."""
    rows = await session.execute(
        select(OAuthConsent, OAuthClient)
        .outerjoin(OAuthClient, OAuthClient.client_id == OAuthConsent.client_id)
        .where(OAuthConsent.user_id == user_id)
        .order_by(OAuthConsent.updated.desc(), OAuthConsent.id)
    )
    return [(consent, client) for consent, client in rows]


async def delete_consent(session: AsyncSession, user_id: str, client_id: str) -> bool:
    """Delete the consent; False when there was none."""
    result = await session.execute(delete(OAuthConsent).where(*_of(user_id, client_id)))
    return bool(result.rowcount)  # type: ignore[attr-defined]
