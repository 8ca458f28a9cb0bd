"""Single-use links mailed to a person (``_one_time_links``): set a new password, confirm an address.

The link carries a random 256-bit token; the table keeps only its SHA-256, so a leaked table opens
nothing. A link lives ``LINK_TTL`` and is used by one atomic conditional update, so two clicks (or
two tabs racing) cannot both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.db.tables import OneTimeLink
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret, new_secret

LINK_PREFIX = "axol_"
LINK_TTL = timedelta(hours=1)
MAX_TOKEN_LENGTH = 200

Purpose = Literal["password_reset", "verify_email", "change_email"]


@dataclass(frozen=True, slots=True)
class LinkUse:
    user_id: str
    email: str
    """The address the link was mailed to."""


def _well_formed(raw: str | None) -> bool:
    return bool(raw) and len(raw or "") <= MAX_TOKEN_LENGTH and (raw or "").startswith(LINK_PREFIX)


async def create_link(session: AsyncSession, user_id: str, purpose: Purpose, email: str,
                      now: datetime | None = None) -> str:
    """A new link token for ``user_id`` (the raw value, returned once), mailed to ``email``."""
    raw = new_secret(LINK_PREFIX)
    now = now or utcnow()
    session.add(OneTimeLink(token_hash=hash_secret(raw), purpose=purpose, user_id=user_id, email=email,
                            created=now, expires=now + LINK_TTL))
    await session.flush()
    return raw


def _live(raw: str, purpose: Purpose, now: datetime) -> list[object]:
    return [OneTimeLink.token_hash == hash_secret(raw), OneTimeLink.purpose == purpose,
            OneTimeLink.used.is_(None), OneTimeLink.expires > now]


async def peek_link(session: AsyncSession, raw: str | None, purpose: Purpose,
                    now: datetime | None = None) -> LinkUse | None:
    """Whom a live link is for, without using it (the page that asks for the new password)."""
    if not _well_formed(raw):
        return None
    row = (await session.execute(
        select(OneTimeLink.user_id, OneTimeLink.email).where(*_live(raw or "", purpose, now or utcnow()))
    )).first()
    return LinkUse(user_id=row.user_id, email=row.email) if row else None


async def use_link(session: AsyncSession, raw: str | None, purpose: Purpose,
                   now: datetime | None = None) -> LinkUse | None:
    """Use a live link (it never works again), or None: unknown, expired, used, or of another purpose."""
    if not _well_formed(raw):
        return None
    now = now or utcnow()
    row = (await session.execute(
        update(OneTimeLink).where(*_live(raw or "", purpose, now)).values(used=now)
        .returning(OneTimeLink.user_id, OneTimeLink.email)
    )).first()
    return LinkUse(user_id=row.user_id, email=row.email) if row else None


async def drop_links(session: AsyncSession, user_id: str) -> int:
    """Forget every link of the user (once a password is reset or an address changed, the links
    mailed before it must not act on the new state)."""
    result = await session.execute(delete(OneTimeLink).where(OneTimeLink.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def remove_expired(session: AsyncSession, now: datetime | None = None) -> int:
    """Delete the links past their time, used or not (for the periodic cleanup)."""
    result = await session.execute(delete(OneTimeLink).where(OneTimeLink.expires <= (now or utcnow())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
