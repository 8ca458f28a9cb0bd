"""Sign-up throttling: counted per address before hashing, in a window that expires."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import signup_throttle
from axiom_mcp.db.tables import SignupThrottle
from axiom_mcp.errors import RateLimited
from axiom_mcp.ids import utcnow


def fresh_address() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"


async def attempt(ctx: AppContext, address: str | None, now) -> None:
    async with ctx.db.session() as session:
        await signup_throttle.begin_signup(session, ctx.settings, address, now)


async def allowed(ctx: AppContext, address: str | None, now) -> bool:
    try:
        await attempt(ctx, address, now)
    except RateLimited:
        return False
    return True


def test_the_defaults_are_ten_an_hour() -> None:
    from axiom_mcp.settings import Settings

    fields = Settings.model_fields
    assert fields["signup_rate_limit"].default == 10
    assert fields["signup_rate_window"].default == timedelta(hours=1)


async def test_the_limit_holds_per_address(ctx: AppContext) -> None:
    address, now = fresh_address(), utcnow()
    limit = ctx.settings.signup_rate_limit
    for _ in range(limit):
        assert await allowed(ctx, address, now)
    with pytest.raises(RateLimited, match="Too many sign-ups from this address. Try again in 60 minutes.") as caught:
        await attempt(ctx, address, now)
    assert caught.value.retry_after == ctx.settings.signup_rate_window.total_seconds()
    later = now + timedelta(minutes=20)  # Retry-After counts down to the end of the window
    with pytest.raises(RateLimited) as caught:
        await attempt(ctx, address, later)
    assert caught.value.retry_after == 40 * 60


async def test_a_refused_attempt_counts_nothing(ctx: AppContext) -> None:
    address, now = fresh_address(), utcnow()
    for _ in range(ctx.settings.signup_rate_limit + 5):
        await allowed(ctx, address, now)
    async with ctx.db.session() as session:
        row = await session.get(SignupThrottle, signup_throttle.address_key(address))
    assert row is not None and row.attempts == ctx.settings.signup_rate_limit


async def test_another_address_is_unaffected(ctx: AppContext) -> None:
    address, now = fresh_address(), utcnow()
    for _ in range(ctx.settings.signup_rate_limit):
        await attempt(ctx, address, now)
    assert not await allowed(ctx, address, now)
    assert await allowed(ctx, fresh_address(), now)


async def test_one_ipv6_subscriber_block_is_one_address(ctx: AppContext) -> None:
    block, now = f"2001:db8:{secrets.randbelow(9999)}:{secrets.randbelow(9999)}", utcnow()
    for n in range(ctx.settings.signup_rate_limit):
        await attempt(ctx, f"{block}::{n + 1}", now)
    assert not await allowed(ctx, f"{block}:ffff::1", now)


async def test_the_window_expires(ctx: AppContext) -> None:
    address, now = fresh_address(), utcnow()
    window, limit = ctx.settings.signup_rate_window, ctx.settings.signup_rate_limit
    for _ in range(limit):
        await attempt(ctx, address, now)
    assert not await allowed(ctx, address, now + window - timedelta(seconds=1))
    fresh = now + window
    for _ in range(limit):  # a whole new allowance, counted from its first attempt
        assert await allowed(ctx, address, fresh)
    assert not await allowed(ctx, address, fresh)


async def test_attempts_spread_over_the_window_still_add_up(ctx: AppContext) -> None:
    address, now = fresh_address(), utcnow()
    step = ctx.settings.signup_rate_window / (ctx.settings.signup_rate_limit + 1)
    for n in range(ctx.settings.signup_rate_limit):
        await attempt(ctx, address, now + step * n)
    assert not await allowed(ctx, address, now + step * ctx.settings.signup_rate_limit)


async def test_a_parallel_burst_gets_exactly_the_limit(ctx: AppContext) -> None:
    address, now = fresh_address(), utcnow()
    limit = ctx.settings.signup_rate_limit
    results = await asyncio.gather(*(allowed(ctx, address, now) for _ in range(limit * 3)), return_exceptions=True)
    passed = sum(r is True for r in results)
    assert passed <= limit
    if not ctx.settings.is_sqlite:  # SQLite may refuse a writer that waited too long: fewer, never more
        assert passed == limit


async def test_cleanup_forgets_ended_windows_only(ctx: AppContext) -> None:
    old, current, now = fresh_address(), fresh_address(), utcnow()
    window = ctx.settings.signup_rate_window
    await attempt(ctx, old, now - window - timedelta(seconds=1))
    await attempt(ctx, current, now - window + timedelta(minutes=1))
    async with ctx.db.session() as session:
        await signup_throttle.remove_stale(session, ctx.settings, now)
    async with ctx.db.session() as session:
        assert await session.get(SignupThrottle, signup_throttle.address_key(old)) is None
        assert await session.get(SignupThrottle, signup_throttle.address_key(current)) is not None
