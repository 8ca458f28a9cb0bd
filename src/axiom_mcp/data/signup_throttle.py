"""Sign-up rate limiting per address, over the shared ``_signup_throttle`` table.

Every sign-up costs an argon2 hash and most create an account, so one address gets
``settings.signup_rate_limit`` attempts per ``settings.signup_rate_window``, whatever their outcome
(a taken email counts too: it still costs the hash of the login that follows, and probing which
emails exist is another reason to try many). The attempt is counted *before* the password is
hashed, with one atomic conditional ``UPDATE ... RETURNING`` committed in its own transaction, so a
parallel burst cannot all pass while argon2 runs; an attempt over the limit counts nothing, hashes
nothing and creates nothing.

The window is fixed: it starts at the first attempt after the previous one ended. (At the seam of
two windows an address can get up to twice the limit in a short time; the hourly rate holds.)
Addresses are keyed as the login throttle keys them (IPv6 by /64), from the same client address
(``X-Forwarded-For`` only from ``settings.trusted_proxies``).
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import users
from axiom_mcp.data.throttle import address_key
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import SignupThrottle, User
from axiom_mcp.errors import RateLimited
from axiom_mcp.ids import utcnow
from axiom_mcp.settings import Settings


def _too_many(window_end: datetime, now: datetime) -> RateLimited:
    seconds = max(1, math.ceil((window_end - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return RateLimited(f"Too many sign-ups from this address. Try again in {wait}.", retry_after=seconds)


async def _ensure_row(session: AsyncSession, key: str, now: datetime) -> None:
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(SignupThrottle).values(key=key, attempts=0, window_start=now)
    await session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))


async def begin_signup(
    session: AsyncSession, settings: Settings, address: str | None, now: datetime | None = None,
    *, purpose: str = "",
) -> None:
    """Count one sign-up attempt from ``address``, or raise RateLimited (counting nothing).

    Commit the session before hashing the password, so parallel attempts see the count. Another
    ``purpose`` (``mail``: requests that send a link) counts apart, with the same limit and window.
    """
    now = now or utcnow()
    key = f"{purpose}:{address_key(address)}" if purpose else address_key(address)
    window = settings.signup_rate_window
    await _ensure_row(session, key, now)
    # A window that has ended starts afresh. Both updates are conditional and atomic: under
    # PostgreSQL's row lock a concurrent one re-reads the row, SQLite runs one writer at a time.
    await session.execute(
        update(SignupThrottle)
        .where(SignupThrottle.key == key, SignupThrottle.window_start <= now - window)
        .values(attempts=0, window_start=now)
    )
    counted = await session.scalar(
        update(SignupThrottle)
        .where(SignupThrottle.key == key, SignupThrottle.attempts < settings.signup_rate_limit)
        .values(attempts=SignupThrottle.attempts + 1)
        .returning(SignupThrottle.attempts)
    )
    if counted is None:
        started = await session.scalar(select(SignupThrottle.window_start).where(SignupThrottle.key == key))
        raise _too_many((started or now) + window, now)


async def sign_up(db: Database, settings: Settings, data: users.SignUp, address: str | None) -> User:
    """``users.create_user`` behind the per-address limit: RateLimited (nothing hashed, nothing
    created), ConflictError for a taken email, or the new user.

    The count is its own transaction: it must hold even when the sign-up then fails.
    """
    async with db.session() as session:
        await begin_signup(session, settings, address)
    async with db.session() as session:
        return await users.create_user(session, data)


async def remove_stale(session: AsyncSession, settings: Settings, now: datetime | None = None) -> int:
    """Delete the counts of windows that have ended (for the periodic cleanup)."""
    stale = (now or utcnow()) - settings.signup_rate_window
    result = await session.execute(delete(SignupThrottle).where(SignupThrottle.window_start <= stale))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
