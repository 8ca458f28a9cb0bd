"""Password guessing against POST /api/v1/auth/login and the web login, over HTTP.

| attack | what must happen |
|---|---|
| many guesses at one account, each from a new address | locked after the limit (429 + Retry-After), even for the right password |
| one address guessing at many accounts | that address is locked; the account owner elsewhere still signs in |
| guesses alternating between the API and the web login | one count: the surfaces share the throttle |
| a burst of parallel guesses | exactly the limit reach the password check; the rest are refused before it |
| guessing on after each lock | each lock doubles (1, 2, 4, 8 minutes ...) up to 15 minutes, never more |
| the owner after the lock | signs in with the right password once it ends; the lock is never permanent |

Time is moved by ending locks in the throttle table (what the clock would do), not by waiting.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from axiom_mcp.app import create_auth_app, create_web_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import throttle
from axiom_mcp.db.tables import LoginThrottle
from axiom_mcp.ids import utcnow
from tests.support.factories import TestUser, make_user
from tests.web.helpers import submit

LIMIT = 3
WRONG = "not the password at all"


def _address() -> str:
    """An address of this test's own (TEST-NET-2), so no other test shares its count."""
    return f"198.51.{secrets.randbelow(100) + 100}.{secrets.randbelow(250) + 1}"


@pytest.fixture(scope="module")
def strict(ctx: AppContext) -> AppContext:
    return AppContext(settings=ctx.settings.model_copy(update={"login_rate_limit": LIMIT}), db=ctx.db)


@pytest.fixture(scope="module")
async def api_login(strict: AppContext) -> AsyncIterator[Callable[..., object]]:
    app = create_auth_app(strict)

    async def login(email: str, password: str, address: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=strict.settings.public_url) as client:
            return await client.post("/api/v1/auth/login", json={"email": email, "password": password})

    yield login


@pytest.fixture(scope="module")
async def web_login(strict: AppContext) -> AsyncIterator[Callable[..., object]]:
    app = create_web_app(strict)

    async def login(email: str, password: str, address: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=strict.settings.web_url) as client:
            return await submit(client, "/auth", email=email, password=password)

    yield login


async def _end_locks(ctx: AppContext, *keys: str) -> None:
    """What the clock does when a lock runs out."""
    async with ctx.db.session() as session:
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until.is_not(None))
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    return int(response.headers["retry-after"])


@pytest.mark.parametrize("surface", ["api", "web"])
async def test_one_account_guessed_from_many_addresses_is_locked(
    strict: AppContext, api_login: Callable[..., object], web_login: Callable[..., object], surface: str
) -> None:
    login = api_login if surface == "api" else web_login
    victim = await make_user(strict, name="Victim")
    for _ in range(LIMIT):
        assert (await login(victim.email, WRONG, _address())).status_code == 401  # type: ignore[operator, union-attr]
    locked = await login(victim.email, victim.password, _address())  # type: ignore[operator]
    assert 0 < _retry_after(locked) <= 60  # type: ignore[arg-type]


@pytest.mark.parametrize("surface", ["api", "web"])
async def test_one_address_guessing_many_accounts_is_locked_not_the_accounts(
    strict: AppContext, api_login: Callable[..., object], web_login: Callable[..., object], surface: str
) -> None:
    login = api_login if surface == "api" else web_login
    guesser = _address()
    accounts = [await make_user(strict, name=f"Target {i}") for i in range(LIMIT + 1)]
    for account in accounts[:LIMIT]:
        assert (await login(account.email, WRONG, guesser)).status_code == 401  # type: ignore[operator, union-attr]
    _retry_after(await login(accounts[LIMIT].email, accounts[LIMIT].password, guesser))  # type: ignore[operator, arg-type]
    # The owners, from their own addresses, are not affected.
    for account in (accounts[0], accounts[LIMIT]):
        assert (await login(account.email, account.password, _address())).status_code in (200, 303)  # type: ignore[operator, union-attr]


async def test_the_api_and_the_web_login_share_one_count(
    strict: AppContext, api_login: Callable[..., object], web_login: Callable[..., object]
) -> None:
    victim = await make_user(strict, name="Victim")
    logins = [api_login, web_login]
    for attempt in range(LIMIT):
        assert (await logins[attempt % 2](victim.email, WRONG, _address())).status_code == 401  # type: ignore[operator, union-attr]
    _retry_after(await api_login(victim.email, victim.password, _address()))  # type: ignore[operator, arg-type]
    _retry_after(await web_login(victim.email, victim.password, _address()))  # type: ignore[operator, arg-type]


async def test_a_parallel_burst_gets_only_the_limit_of_guesses(
    strict: AppContext, api_login: Callable[..., object]
) -> None:
    """Counting happens before the (slow) password check, atomically: 20 guesses at once cannot
    all slip through while argon2 runs."""
    victim = await make_user(strict, name="Victim")
    answers = await asyncio.gather(*(api_login(victim.email, WRONG, _address()) for _ in range(20)))  # type: ignore[operator]
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(401) == LIMIT and statuses.count(429) == 20 - LIMIT, statuses


async def test_locks_grow_to_fifteen_minutes_and_the_owner_gets_back_in(
    strict: AppContext, api_login: Callable[..., object]
) -> None:
    victim: TestUser = await make_user(strict, name="Victim")
    keys = throttle.login_keys(victim.email, "192.0.2.1")
    for _ in range(LIMIT):
        assert (await api_login(victim.email, WRONG, _address())).status_code == 401  # type: ignore[operator, union-attr]

    locks = [_retry_after(await api_login(victim.email, victim.password, _address()))]  # type: ignore[operator, arg-type]
    for _ in range(5):  # after each lock ends, one more wrong guess (checked, and locking again)
        await _end_locks(strict, keys.account)
        assert (await api_login(victim.email, WRONG, _address())).status_code == 401  # type: ignore[operator, union-attr]
        locks.append(_retry_after(await api_login(victim.email, victim.password, _address())))  # type: ignore[operator, arg-type]

    minutes = [round(seconds / 60) for seconds in locks]
    assert minutes == [1, 2, 4, 8, 15, 15], locks
    assert max(locks) <= throttle.LOCK_CAP.total_seconds()

    await _end_locks(strict, keys.account)
    welcome = await api_login(victim.email, victim.password, _address())  # type: ignore[operator]
    assert welcome.status_code == 200, welcome.text  # type: ignore[union-attr]
    # A success forgets the account's failures: the next mistake is not punished with a lock.
    assert (await api_login(victim.email, WRONG, _address())).status_code == 401  # type: ignore[operator, union-attr]
