"""Sign-up rate limiting per address (``rate_limits.signups``, over the ``_signup_throttle`` table).

Every sign-up costs an argon2 hash and most create an account, so one address gets
``settings.signup_rate_limit`` attempts per ``settings.signup_rate_window``, whatever their outcome
(a taken email counts too: it still costs the hash of the login that follows, and probing which
emails exist is another reason to try many). The attempt is counted before the password is hashed,
in its own transaction; an attempt over the limit counts nothing, hashes nothing and creates nothing.
Addresses come from the client address (``X-Forwarded-For`` only from ``settings.trusted_proxies``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import rate_limits, users
from axiom_mcp.data.rate_limits import address_key
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import User
from axiom_mcp.ids import utcnow
from axiom_mcp.settings import Settings


async def begin_signup(
    session: AsyncSession, settings: Settings, address: str | None, now: datetime | None = None,
) -> None:
    """Count one sign-up attempt from ``address``, or raise RateLimited (counting nothing).

    Commit the session before hashing the password, so parallel attempts see the count.
    """
    await rate_limits.signups(settings).begin(session, address_key(address), now or utcnow())


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
    return await rate_limits.signups(settings).remove_stale(session, now or utcnow())
