"""Login rate limiting per account, per address and per trusted device, over the ``_login_throttle`` table.

Every attempt is counted *before* the password is checked (``rate_limits.Counter``: one atomic
``UPDATE ... RETURNING`` per key), so a burst of parallel guesses cannot all slip past the limit while
argon2 runs. A success takes its count back. When a key reaches ``settings.login_rate_limit``
attempts within the window it is locked, for a time that doubles with every further failure up to
``LOCK_CAP``; after a quiet ``WINDOW`` (counted from when the lock ends) the key starts afresh. So a
guesser gets at most about one try per ``LOCK_CAP``.

A browser that signed in before holds a device cookie bound to the account (OWASP "device cookies"):
its attempts are judged on that device's own failures instead of the account's, so a stranger who
keeps the account locked (one wrong password each time a lock ends) cannot lock its owner out.

Keys never hold an email in clear: ``account:<sha256 of the normalised email>``. Unknown and known
emails are counted the same way, so the limiter tells nobody which accounts exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import users
from axiom_mcp.data.rate_limits import Counter, address_key, refused
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import LoginThrottle, User
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret, same
from axiom_mcp.settings import Settings

WINDOW = timedelta(minutes=15)
"""Attempts are counted within this window; a key is forgotten after this long without a lock."""
LOCK_BASE = timedelta(minutes=1)
"""The first lock; each further failed attempt doubles it."""
LOCK_CAP = timedelta(minutes=15)
"""The longest lock: the legitimate user waits at most this long."""

COUNTER = Counter(LoginThrottle, "failures")
REFUSAL = "sign-in attempts"


@dataclass(frozen=True, slots=True)
class LoginKeys:
    """The throttle keys of one login attempt; a trusted device's key stands in for the account's."""

    account: str
    address: str
    device: str | None = None

    @property
    def judged(self) -> str:
        """The key that stands for who is signing in: the trusted device's, else the account's."""
        return self.device or self.account

    def all(self) -> tuple[str, str]:
        return (self.judged, self.address)


def _account_key(email: str) -> str:
    return f"account:{hash_secret(users.normalize_email(email))}"


def login_keys(email: str, address: str | None, device: str | None = None) -> LoginKeys:
    return LoginKeys(account=_account_key(email), address=address_key(address), device=device)


def _device_mac(secret: str, email: str, nonce: str) -> str:
    message = f"{_account_key(email)}:{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def device_cookie(settings: Settings, email: str, sent: str | None = None) -> str:
    """The device cookie of a browser that has just signed in to ``email``'s account: the one it
    ``sent`` if that is valid for the account, else a new one."""
    if sent and device_key(settings, email, sent):
        return sent
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_device_mac(settings.resolved_secret(), email, nonce)}"


def device_key(settings: Settings, email: str, cookie: str | None) -> str | None:
    """The throttle key of a device cookie issued for ``email``'s account, or None (absent, forged,
    or issued for another account)."""
    nonce, _, mac = (cookie or "").partition(".")
    if not nonce or not mac or not same(mac, _device_mac(settings.resolved_secret(), email, nonce)):
        return None
    return f"device:{hash_secret(nonce)}"


def lock_duration(failures: int, limit: int) -> timedelta:
    """How long a key with ``failures`` counted attempts stays locked (limit reached: LOCK_BASE)."""
    if failures < limit:
        return timedelta(0)
    doublings = min(failures - limit, 16)  # 2**16 minutes is far past the cap; keeps the number small
    return min(LOCK_BASE * (2**doublings), LOCK_CAP)


def _stale(now: datetime) -> ColumnElement[bool]:
    """Rows whose window has passed and whose lock (if any) ended a whole window ago."""
    quiet_since = now - WINDOW
    return and_(
        LoginThrottle.window_start <= quiet_since,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= quiet_since),
    )


@dataclass(frozen=True, slots=True)
class LoginLimit:
    """Failed sign-ins per key: locked at ``limit``, for a time that grows with each further failure."""

    limit: int

    async def begin(self, session: AsyncSession, key: str, now: datetime) -> None:
        await COUNTER.ensure(session, key, now)
        await COUNTER.restart(session, key, now, _stale(now), locked_until=None)
        unlocked = or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now)
        failures = await COUNTER.add_one(session, key, unlocked)
        if failures is None:  # locked by a parallel attempt since check() looked
            locked = await COUNTER.get(session, "locked_until", key)
            raise refused(REFUSAL, locked or now + LOCK_BASE, now)
        if failures >= self.limit:
            await session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == key)
                .values(locked_until=now + lock_duration(failures, self.limit))
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
        raise refused(REFUSAL, locked, now)


async def begin_attempt(
    session: AsyncSession, settings: Settings, keys: LoginKeys, now: datetime | None = None
) -> None:
    """Count one attempt on both keys, or raise RateLimited (counting nothing) if either is locked.

    Commit the session before checking the password, so parallel attempts see the count.
    """
    now = now or utcnow()
    await check(session, keys, now)
    limit = LoginLimit(settings.login_rate_limit)
    for key in keys.all():
        await limit.begin(session, key, now)


async def record_success(
    session: AsyncSession, settings: Settings, keys: LoginKeys, now: datetime | None = None
) -> None:
    """Forget the failures of ``keys.judged`` (the trusted device's, else the account's); give the
    address back the one attempt this success counted.

    A device's success leaves the account's count alone: whoever is guessing at the account stays
    locked. The address is not wiped: a guesser who owns one account must not reset their address's
    count by logging into it between guesses at other accounts.
    """
    now = now or utcnow()
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys.judged))
    row = await session.get(LoginThrottle, keys.address, with_for_update=True)
    if row is None:
        return
    row.failures = max(0, row.failures - 1)
    if row.failures < settings.login_rate_limit:
        row.locked_until = None


async def authenticate(
    db: Database, settings: Settings, email: str, password: str, address: str | None,
    device: str | None = None,
) -> User:
    """``users.authenticate`` behind the throttle: RateLimited when locked, AuthenticationFailed
    (one message for an unknown email and a wrong password) otherwise, or the user. ``device`` is
    the device cookie the caller sent, if any: a valid one is judged on its own failures.

    Each step is its own transaction: the attempt must be counted even when the check fails.
    """
    trusted = device_key(settings, email, device)
    keys = login_keys(email, address, trusted)
    async with db.session() as session:
        await begin_attempt(session, settings, keys)
    async with db.session() as session:
        user = await users.authenticate(session, email, password)  # AuthenticationFailed: stays counted
    async with db.session() as session:
        await record_success(session, settings, keys)
    return user


async def remove_stale(session: AsyncSession, now: datetime | None = None) -> int:
    """Delete keys nobody has tried for a whole window (for the periodic cleanup)."""
    return await COUNTER.remove(session, _stale(now or utcnow()))
