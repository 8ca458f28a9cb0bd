"""Login rate limiting per account and per address, over the shared ``_login_throttle`` table.

Every attempt is counted *before* the password is checked, with one atomic ``UPDATE ... RETURNING``
per key, so a burst of parallel guesses cannot all slip past the limit while argon2 runs. A success
takes its count back. When a key reaches ``settings.login_rate_limit`` attempts within the window it
is locked, for a time that doubles with every further failure up to ``LOCK_CAP``; after a quiet
``WINDOW`` (counted from when the lock ends) the key starts afresh. So a guesser gets at most about
one try per ``LOCK_CAP``, while the owner of the account is never locked out for longer than that.

Keys never hold an email in clear: ``account:<sha256 of the normalised email>``. Unknown and known
emails are counted the same way, so the limiter tells nobody which accounts exist.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import users
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import LoginThrottle, User
from axiom_mcp.errors import RateLimited
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret
from axiom_mcp.settings import Settings

WINDOW = timedelta(minutes=15)
"""Attempts are counted within this window; a key is forgotten after this long without a lock."""
LOCK_BASE = timedelta(minutes=1)
"""The first lock; each further failed attempt doubles it."""
LOCK_CAP = timedelta(minutes=15)
"""The longest lock: the legitimate user waits at most this long."""


@dataclass(frozen=True, slots=True)
class LoginKeys:
    """The throttle keys of one login attempt."""

    account: str
    address: str

    def all(self) -> tuple[str, str]:
        return (self.account, self.address)


def address_key(address: str | None) -> str:
    """The key of a client address; IPv6 is grouped by /64, the block one subscriber usually holds."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "address:unknown"
    if ip.version == 6:
        mapped = ip.ipv4_mapped  # type: ignore[union-attr]
        if mapped is not None:
            return f"address:{mapped}"
        return f"address:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"address:{ip}"


def login_keys(email: str, address: str | None) -> LoginKeys:
    return LoginKeys(
        account=f"account:{hash_secret(users.normalize_email(email))}",
        address=address_key(address),
    )


def lock_duration(failures: int, limit: int) -> timedelta:
    """How long a key with ``failures`` counted attempts stays locked (limit reached: LOCK_BASE)."""
    if failures < limit:
        return timedelta(0)
    doublings = min(failures - limit, 16)  # 2**16 minutes is far past the cap; keeps the number small
    return min(LOCK_BASE * (2**doublings), LOCK_CAP)


def _retry_after(locked_until: datetime, now: datetime) -> int:
    return max(1, math.ceil((locked_until - now).total_seconds()))


def _too_many(locked_until: datetime, now: datetime) -> RateLimited:
    seconds = _retry_after(locked_until, now)
    minutes = math.ceil(seconds / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return RateLimited(f"Too many sign-in attempts. Try again in {wait}.", retry_after=seconds)


async def _ensure_row(session: AsyncSession, key: str, now: datetime) -> None:
    dialect = session.bind.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(LoginThrottle).values(key=key, failures=0, window_start=now, locked_until=None)
    await session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))


def _stale(now: datetime) -> ColumnElement[bool]:
    """Rows whose window has passed and whose lock (if any) ended a whole window ago."""
    quiet_since = now - WINDOW
    return and_(
        LoginThrottle.window_start <= quiet_since,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= quiet_since),
    )


async def check(session: AsyncSession, keys: LoginKeys, now: datetime | None = None) -> None:
    """Raise RateLimited when either key is locked now (reads only)."""
    now = now or utcnow()
    locked = await session.scalar(
        select(LoginThrottle.locked_until)
        .where(LoginThrottle.key.in_(keys.all()), LoginThrottle.locked_until > now)
        .order_by(LoginThrottle.locked_until.desc())
        .limit(1)
    )
    if locked is not None:
        raise _too_many(locked, now)


async def begin_attempt(
    session: AsyncSession, settings: Settings, keys: LoginKeys, now: datetime | None = None
) -> None:
    """Count one attempt on both keys, or raise RateLimited (counting nothing) if either is locked.

    Commit the session before checking the password, so parallel attempts see the count.
    """
    now = now or utcnow()
    await check(session, keys, now)
    limit = settings.login_rate_limit
    for key in keys.all():
        await _ensure_row(session, key, now)
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key, _stale(now))
            .values(failures=0, window_start=now, locked_until=None)
        )
        failures = await session.scalar(
            update(LoginThrottle)
            .where(
                LoginThrottle.key == key,
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
            )
            .values(failures=LoginThrottle.failures + 1)
            .returning(LoginThrottle.failures)
        )
        if failures is None:  # locked by a parallel attempt since check() looked
            locked = await session.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.key == key))
            raise _too_many(locked or now + LOCK_BASE, now)
        if failures >= limit:
            await session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == key)
                .values(locked_until=now + lock_duration(failures, limit))
            )


async def record_success(
    session: AsyncSession, settings: Settings, keys: LoginKeys, now: datetime | None = None
) -> None:
    """Forget the account's failures; give the address back the one attempt this success counted.

    The address is not wiped: a guesser who owns one account must not reset their address's count
    by logging into it between guesses at other accounts.
    """
    now = now or utcnow()
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys.account))
    row = await session.get(LoginThrottle, keys.address, with_for_update=True)
    if row is None:
        return
    row.failures = max(0, row.failures - 1)
    if row.failures < settings.login_rate_limit:
        row.locked_until = None


async def authenticate(
    db: Database, settings: Settings, email: str, password: str, address: str | None
) -> User:
    """``users.authenticate`` behind the throttle: RateLimited when locked, AuthenticationFailed
    (one message for an unknown email and a wrong password) otherwise, or the user.

    Each step is its own transaction: the attempt must be counted even when the check fails.
    """
    keys = login_keys(email, address)
    async with db.session() as session:
        await begin_attempt(session, settings, keys)
    async with db.session() as session:
        user = await users.authenticate(session, email, password)  # AuthenticationFailed: stays counted
    async with db.session() as session:
        await record_success(session, settings, keys)
    return user


async def remove_stale(session: AsyncSession, now: datetime | None = None) -> int:
    """Delete keys nobody has tried for a whole window (for the periodic cleanup)."""
    result = await session.execute(delete(LoginThrottle).where(_stale(now or utcnow())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
