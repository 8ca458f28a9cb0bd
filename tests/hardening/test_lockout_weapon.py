"""Locking an account must not lock its owner out (OWASP "device cookies").

A stranger who knows an email can keep its account locked for good: the limit of wrong passwords,
then one more each time a lock ends. A browser (or API client) that signed in successfully before
holds a device credential bound to the account; its attempts are judged on that device's own
failures, not the account-wide lock.

| attack | what must happen |
|---|---|
| a stranger keeps the account locked | strangers get 429 even with the right password; the owner's device signs in |
| the owner's device credential sent for another, locked account | no effect: it is bound to its account |
| a forged device credential | no effect |
| guessing from a device that once signed in | that device is locked on its own failures |

Time is moved by ending locks in the throttle table (what the clock would do), not by waiting.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
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
from tests.web.helpers import set_cookie, submit

LIMIT = 3
WRONG = "not the password at all"

# (email, password, device credential or None, address) -> (status, device credential handed back)
Login = Callable[[str, str, str | None, str], Awaitable[tuple[int, str | None]]]


def _address() -> str:
    return f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


@pytest.fixture(scope="module")
def strict(ctx: AppContext) -> AppContext:
    return AppContext(settings=ctx.settings.model_copy(update={"login_rate_limit": LIMIT}), db=ctx.db)


@pytest.fixture(scope="module")
async def logins(strict: AppContext) -> AsyncIterator[dict[str, Login]]:
    auth_app, web_app = create_auth_app(strict), create_web_app(strict)

    async def api(email: str, password: str, device: str | None, address: str) -> tuple[int, str | None]:
        transport = httpx.ASGITransport(app=auth_app, client=(address, 40000))
        body = {"email": email, "password": password} | ({"device": device} if device else {})
        async with httpx.AsyncClient(transport=transport, base_url=strict.settings.public_url) as client:
            response = await client.post("/api/v1/auth/login", json=body)
        return response.status_code, response.json().get("device") if response.status_code == 200 else None

    async def web(email: str, password: str, device: str | None, address: str) -> tuple[int, str | None]:
        transport = httpx.ASGITransport(app=web_app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=strict.settings.web_url) as client:
            if device:
                set_cookie(client, "axiom_device", device)
            response = await submit(client, "/auth", email=email, password=password)
            return response.status_code, response.cookies.get("axiom_device")

    yield {"api": api, "web": web}


async def _end_locks(ctx: AppContext, *keys: str) -> None:
    """What the clock does when a lock runs out."""
    async with ctx.db.session() as session:
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until.is_not(None))
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )


async def _keep_locked(strict: AppContext, login: Login, victim: TestUser) -> None:
    """The stranger's campaign: the limit of wrong passwords, then one more each time the lock ends."""
    for _ in range(LIMIT):
        assert (await login(victim.email, WRONG, None, _address()))[0] == 401
    for _ in range(3):
        await _end_locks(strict, throttle.login_keys(victim.email, None).account)
        assert (await login(victim.email, WRONG, None, _address()))[0] == 401
    assert (await login(victim.email, victim.password, None, _address()))[0] == 429


def _ok(status: int) -> bool:
    return status in (200, 303)


@pytest.mark.parametrize("surface", ["api", "web"])
async def test_the_owners_device_signs_in_while_strangers_are_locked_out(
    strict: AppContext, logins: dict[str, Login], surface: str
) -> None:
    login = logins[surface]
    victim = await make_user(strict, name="Victim")
    home = _address()
    status, device = await login(victim.email, victim.password, None, home)
    assert _ok(status)

    await _keep_locked(strict, login, victim)

    status, again = await login(victim.email, victim.password, device, home)
    assert _ok(status), f"the owner's device was locked out ({status})"
    assert device, "a successful sign-in hands out a device credential"
    assert again == device or again is None  # the same credential stays valid
    assert (await login(victim.email, victim.password, None, _address()))[0] == 429  # strangers still are


@pytest.mark.parametrize("surface", ["api", "web"])
async def test_a_device_credential_is_bound_to_its_account_and_cannot_be_forged(
    strict: AppContext, logins: dict[str, Login], surface: str
) -> None:
    login = logins[surface]
    owner, victim = await make_user(strict, name="Owner"), await make_user(strict, name="Victim")
    status, device = await login(owner.email, owner.password, None, _address())
    assert _ok(status) and device
    await _keep_locked(strict, login, victim)
    nonce = device.partition(".")[0]
    for credential in (device, f"{nonce}.{'0' * 64}", "garbage"):
        assert (await login(victim.email, victim.password, credential, _address()))[0] == 429


@pytest.mark.parametrize("surface", ["api", "web"])
async def test_a_device_is_locked_by_its_own_failures(
    strict: AppContext, logins: dict[str, Login], surface: str
) -> None:
    login = logins[surface]
    victim = await make_user(strict, name="Victim")
    status, device = await login(victim.email, victim.password, None, _address())
    assert _ok(status) and device
    for _ in range(LIMIT):
        assert (await login(victim.email, WRONG, device, _address()))[0] == 401
    assert (await login(victim.email, victim.password, device, _address()))[0] == 429
