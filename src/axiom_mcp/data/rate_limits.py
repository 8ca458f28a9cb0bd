"""Rate limits kept in the database, so every instance shares the counts.

One interface, ``RateLimit.begin``: count one attempt under a key, or raise RateLimited counting
nothing. One way to count, ``Counter``: a row per key holding a count and the start of its window;
an attempt is counted by one atomic conditional ``UPDATE ... RETURNING``, committed before the costly
work it guards, so a parallel burst cannot all pass (PostgreSQL re-reads a row a concurrent update
changed; SQLite runs one writer at a time). Two policies sit on it: ``FixedWindow`` here (sign-ups,
client registrations) and the login throttle's growing locks (``data/throttle.py``).

Client addresses are keyed alike everywhere: IPv6 by /64, the block one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.upsert import insert_if_absent
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import RegistrationThrottle, SignupThrottle
from axiom_mcp.errors import RateLimited
from axiom_mcp.ids import utcnow
from axiom_mcp.settings import Settings

REGISTRATION_WINDOW = timedelta(minutes=1)
"""``settings.registration_rate_limit`` counts client registrations per address per this window."""


class RateLimit(Protocol):
    """A limit on attempts per key."""

    async def begin(self, session: AsyncSession, key: str, now: datetime) -> None:
        """Count one attempt under ``key``, or raise RateLimited (counting nothing)."""


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


def refused(what: str, until: datetime, now: datetime) -> RateLimited:
    """``Too many <what>. Try again in N minutes.``, with Retry-After counting down to ``until``."""
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return RateLimited(f"Too many {what}. Try again in {wait}.", retry_after=seconds)


@dataclass(frozen=True, slots=True)
class Counter:
    """The counting every database limit shares: rows of ``key``, a count column and ``window_start``."""

    model: type[Any]
    count: str

    @property
    def _count(self) -> Any:
        return getattr(self.model, self.count)

    async def ensure(self, session: AsyncSession, key: str, now: datetime) -> None:
        """Create the key's row (count 0) unless it exists; concurrent first attempts do not collide."""
        await insert_if_absent(session, self.model, {"key": key, self.count: 0, "window_start": now}, ["key"])

    async def restart(self, session: AsyncSession, key: str, now: datetime, stale: ColumnElement[bool],
                      **reset: Any) -> None:
        """Start the key's count afresh when ``stale`` holds for its row."""
        await session.execute(
            update(self.model).where(self.model.key == key, stale).values({self.count: 0, "window_start": now, **reset})
        )

    async def add_one(self, session: AsyncSession, key: str, allowed: ColumnElement[bool]) -> int | None:
        """Add one to the key's count if ``allowed`` holds for its row: the new count, or None."""
        counted = await session.scalar(
            update(self.model)
            .where(self.model.key == key, allowed)
            .values({self.count: self._count + 1})
            .returning(self._count)
        )
        return None if counted is None else int(counted)

    async def get(self, session: AsyncSession, column: str, key: str) -> Any:
        return await session.scalar(select(getattr(self.model, column)).where(self.model.key == key))

    async def remove(self, session: AsyncSession, stale: ColumnElement[bool]) -> int:
        result = await session.execute(delete(self.model).where(stale))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class FixedWindow:
    """``limit`` attempts per key per ``window``; the window starts at the first attempt after the
    previous one ended (at the seam of two windows a key can get up to twice the limit in a short
    time; the rate over a window holds)."""

    counter: Counter
    limit: int
    window: timedelta
    what: str
    """What is counted, for the refusal: ``Too many <what>. Try again in ...``."""

    async def begin(self, session: AsyncSession, key: str, now: datetime) -> None:
        model = self.counter.model
        await self.counter.ensure(session, key, now)
        await self.counter.restart(session, key, now, model.window_start <= now - self.window)
        if await self.counter.add_one(session, key, getattr(model, self.counter.count) < self.limit) is None:
            started = await self.counter.get(session, "window_start", key)
            raise refused(self.what, (started or now) + self.window, now)

    async def remove_stale(self, session: AsyncSession, now: datetime) -> int:
        """Delete the counts of windows that have ended (for the periodic cleanup)."""
        return await self.counter.remove(session, self.counter.model.window_start <= now - self.window)


def signups(settings: Settings) -> FixedWindow:
    return FixedWindow(
        Counter(SignupThrottle, "attempts"),
        settings.signup_rate_limit,
        settings.signup_rate_window,
        "sign-ups from this address",
    )


def mail_requests(settings: Settings) -> FixedWindow:
    """Requests that mail a link (password reset, confirmation): counted like sign-ups, apart from them."""
    return FixedWindow(
        Counter(SignupThrottle, "attempts"),
        settings.signup_rate_limit,
        settings.signup_rate_window,
        "requests from this address",
    )


MAIL_KEY = "mail:"
"""Mail requests share the sign-up table under keys of their own."""


def registrations(settings: Settings) -> FixedWindow:
    return FixedWindow(
        Counter(RegistrationThrottle, "attempts"),
        settings.registration_rate_limit,
        REGISTRATION_WINDOW,
        "client registrations from this address",
    )


async def count_registration(db: Database, settings: Settings, address: str | None) -> None:
    """Count one dynamic client registration from ``address``, or raise RateLimited.

    Its own transaction, before the registration: a registration that then fails still counts.
    """
    async with db.session() as session:
        await registrations(settings).begin(session, address_key(address), utcnow())
