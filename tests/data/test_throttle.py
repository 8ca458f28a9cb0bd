"""Login throttling: counted per account and per address, locked with a growing, capped delay."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import throttle
from axiom_mcp.data.throttle import LOCK_BASE, LOCK_CAP, WINDOW, LoginKeys
from axiom_mcp.errors import AuthenticationFailed, RateLimited
from axiom_mcp.ids import utcnow
from tests.support.factories import TestUser


def fresh_address() -> str:
    """An address no other test uses (address keys outlive a test in the shared database: a fixed
    or narrowly random one can find another test's failures, and a lock, already there)."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"


def fresh_keys() -> LoginKeys:
    return throttle.login_keys(f"nobody-{secrets.token_hex(6)}@example.com", fresh_address())


async def attempt(ctx: AppContext, keys: LoginKeys, now) -> None:
    async with ctx.db.session() as session:
        await throttle.begin_attempt(session, ctx.settings, keys, now)


async def is_locked(ctx: AppContext, keys: LoginKeys, now) -> int | None:
    """Retry-After seconds when locked at ``now``, else None."""
    async with ctx.db.session() as session:
        try:
            await throttle.check(session, keys, now)
        except RateLimited as exc:
            return exc.retry_after
    return None


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "address:203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "address:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "address:2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "address:192.0.2.1"),
        ("not an address", "address:unknown"),
        (None, "address:unknown"),
    ],
    ids=["ipv4", "ipv6-grouped-by-64", "ipv6-same-64", "ipv4-mapped", "garbage", "missing"],
)
def test_address_keys(address: str | None, key: str) -> None:
    assert throttle.address_key(address) == key


def test_account_key_hides_the_email_and_ignores_case() -> None:
    keys = throttle.login_keys(" Ann@Example.COM ", "127.0.0.1")
    assert "ann" not in keys.account.lower()
    assert keys.account == throttle.login_keys("ann@example.com", "::1").account


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(9, 0), (10, 1), (11, 2), (12, 4), (13, 8), (14, 15), (40, 15), (10_000, 15)],
    ids=["below", "at-limit", "x2", "x4", "x8", "capped", "long-capped", "huge-capped"],
)
def test_lock_grows_and_is_capped(failures: int, minutes: int) -> None:
    assert throttle.lock_duration(failures, 10) == timedelta(minutes=minutes)


async def test_locks_at_the_limit_and_not_before(ctx: AppContext) -> None:
    keys, now = fresh_keys(), utcnow()
    limit = ctx.settings.login_rate_limit
    for _ in range(limit - 1):
        await attempt(ctx, keys, now)
    assert await is_locked(ctx, keys, now) is None
    await attempt(ctx, keys, now)
    assert await is_locked(ctx, keys, now) == LOCK_BASE.total_seconds()
    with pytest.raises(RateLimited, match="Too many sign-in attempts. Try again in 1 minute."):
        await attempt(ctx, keys, now)


async def test_each_failure_after_a_lock_doubles_it_up_to_the_cap(ctx: AppContext) -> None:
    keys, now = fresh_keys(), utcnow()
    for _ in range(ctx.settings.login_rate_limit):
        await attempt(ctx, keys, now)
    seen = []
    for _ in range(6):
        wait = await is_locked(ctx, keys, now)
        assert wait is not None
        seen.append(wait // 60)
        now += timedelta(seconds=wait)  # the lock has just ended: one more try is allowed
        assert await is_locked(ctx, keys, now) is None
        await attempt(ctx, keys, now)
    assert seen == [1, 2, 4, 8, 15, 15]


async def lock_three_times(ctx: AppContext, keys: LoginKeys, now):
    """Reach the limit, then fail once more at the end of each lock; returns when the last lock ends."""
    for _ in range(ctx.settings.login_rate_limit):
        await attempt(ctx, keys, now)
    for _ in range(3):
        now += timedelta(seconds=await is_locked(ctx, keys, now) or 0)
        await attempt(ctx, keys, now)
    return now + timedelta(seconds=await is_locked(ctx, keys, now) or 0)


async def test_the_escalation_is_remembered_until_a_quiet_window_passes(ctx: AppContext) -> None:
    keys = fresh_keys()
    lock_end = await lock_three_times(ctx, keys, utcnow())
    now = lock_end + WINDOW - timedelta(seconds=1)
    await attempt(ctx, keys, now)
    assert await is_locked(ctx, keys, now) == LOCK_CAP.total_seconds()


async def test_a_key_is_forgotten_a_window_after_its_lock_ends(ctx: AppContext) -> None:
    keys = fresh_keys()
    lock_end = await lock_three_times(ctx, keys, utcnow())
    now = lock_end + WINDOW
    for _ in range(ctx.settings.login_rate_limit - 1):
        await attempt(ctx, keys, now)
    assert await is_locked(ctx, keys, now) is None


async def test_failures_outside_the_window_do_not_add_up(ctx: AppContext) -> None:
    keys, now = fresh_keys(), utcnow()
    limit = ctx.settings.login_rate_limit
    for _ in range(limit - 1):
        await attempt(ctx, keys, now)
    now += WINDOW + timedelta(seconds=1)
    for _ in range(limit - 1):
        await attempt(ctx, keys, now)
    assert await is_locked(ctx, keys, now) is None


async def test_either_key_locks_the_attempt(ctx: AppContext) -> None:
    now = utcnow()
    address = "198.51.100.77"
    spray = [throttle.login_keys(f"spray-{i}-{secrets.token_hex(3)}@example.com", address) for i in range(10)]
    for keys in spray:  # one guess at each of many accounts from one address
        await attempt(ctx, keys, now)
    fresh_account = throttle.login_keys(f"fresh-{secrets.token_hex(3)}@example.com", address)
    assert await is_locked(ctx, fresh_account, now) is not None
    elsewhere = throttle.login_keys(f"fresh-{secrets.token_hex(3)}@example.com", "198.51.100.78")
    assert await is_locked(ctx, elsewhere, now) is None


async def test_success_resets_the_account_and_returns_the_address_its_attempt(ctx: AppContext) -> None:
    keys, now = fresh_keys(), utcnow()
    limit = ctx.settings.login_rate_limit
    for _ in range(limit - 1):
        await attempt(ctx, keys, now)
    await attempt(ctx, keys, now)  # the limit-th attempt locks both keys ...
    assert await is_locked(ctx, keys, now) is not None
    async with ctx.db.session() as session:  # ... but it was the right password
        await throttle.record_success(session, ctx.settings, keys, now)
    assert await is_locked(ctx, keys, now) is None
    same_account_new_address = LoginKeys(account=keys.account, address=throttle.address_key("192.0.2.200"))
    for _ in range(limit - 1):
        await attempt(ctx, same_account_new_address, now)
    assert await is_locked(ctx, same_account_new_address, now) is None  # account count was wiped
    other_account_same_address = LoginKeys(account=fresh_keys().account, address=keys.address)
    await attempt(ctx, other_account_same_address, now)  # the address had limit - 1 left counted
    assert await is_locked(ctx, other_account_same_address, now) is not None


async def test_parallel_attempts_cannot_exceed_the_limit(ctx: AppContext) -> None:
    keys, now = fresh_keys(), utcnow()

    async def one() -> bool:
        try:
            await attempt(ctx, keys, now)
        except RateLimited:
            return False
        return True

    allowed = await asyncio.gather(*(one() for _ in range(25)))
    assert sum(allowed) == ctx.settings.login_rate_limit


def strict(ctx: AppContext, limit: int = 3):
    """The context's settings with a small limit, so tests that verify passwords (argon2) stay quick."""
    return ctx.settings.model_copy(update={"login_rate_limit": limit})


@pytest.mark.parametrize("wrong", ["unknown-email", "wrong-password"])
async def test_authenticate_counts_failures_the_same_way_and_then_refuses_even_the_right_password(
    ctx: AppContext, user: TestUser, wrong: str
) -> None:
    settings = strict(ctx)
    address = fresh_address()
    email = f"ghost-{secrets.token_hex(4)}@example.com" if wrong == "unknown-email" else user.email
    messages = set()
    for _ in range(settings.login_rate_limit):
        with pytest.raises(AuthenticationFailed) as failed:
            await throttle.authenticate(ctx.db, settings, email, "not the password", address)
        messages.add(failed.value.message)
    assert messages == {"Wrong email or password."}
    with pytest.raises(RateLimited):
        await throttle.authenticate(ctx.db, settings, email, user.password, address)


async def test_authenticate_success_clears_the_account(ctx: AppContext, user: TestUser) -> None:
    settings = strict(ctx)
    for address in (fresh_address(), fresh_address()):
        with pytest.raises(AuthenticationFailed):
            await throttle.authenticate(ctx.db, settings, user.email, "nope nope", address)
    found = await throttle.authenticate(ctx.db, settings, user.email, user.password, fresh_address())
    assert found.id == user.id
    for address in (fresh_address(), fresh_address()):
        with pytest.raises(AuthenticationFailed):  # not RateLimited: the two earlier failures are gone
            await throttle.authenticate(ctx.db, settings, user.email, "nope nope", address)


async def test_remove_stale_keeps_live_keys(ctx: AppContext) -> None:
    old, live, now = fresh_keys(), fresh_keys(), utcnow()
    await attempt(ctx, old, now - WINDOW - LOCK_CAP)
    await attempt(ctx, live, now)
    async with ctx.db.session() as session:
        assert await throttle.remove_stale(session, now) >= 2  # old's account and address keys
    assert await _count(ctx, live) == 2
    assert await _count(ctx, old) == 0


async def _count(ctx: AppContext, keys: LoginKeys) -> int:
    from sqlalchemy import func, select

    from axiom_mcp.db.tables import LoginThrottle

    async with ctx.db.session() as session:
        return int(await session.scalar(select(func.count()).where(LoginThrottle.key.in_(keys.all()))) or 0)
