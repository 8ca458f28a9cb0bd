"""POST /api/v1/auth/login is throttled per account and per address, with one failure message."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from tests.support.factories import TestUser

LIMIT = 2


@pytest.fixture
async def strict_api(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    """The API with a login limit of 2, called from an address of its own (so no other test is locked)."""
    strict = AppContext(settings=ctx.settings.model_copy(update={"login_rate_limit": LIMIT}), db=ctx.db)
    address = f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    transport = httpx.ASGITransport(app=create_auth_app(strict), client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
        yield client


async def login(api: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await api.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_unknown_email_and_wrong_password_get_the_same_answer(
    strict_api: httpx.AsyncClient, user: TestUser
) -> None:
    unknown = await login(strict_api, f"ghost-{secrets.token_hex(4)}@example.com", user.password)
    wrong = await login(strict_api, user.email, "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


async def test_the_account_is_locked_after_the_limit_even_for_the_right_password(
    strict_api: httpx.AsyncClient, user: TestUser
) -> None:
    for _ in range(LIMIT):
        assert (await login(strict_api, user.email, "not the password")).status_code == 401
    locked = await login(strict_api, user.email, user.password)
    assert locked.status_code == 429
    assert 30 <= int(locked.headers["retry-after"]) <= 60  # a one-minute lock, started a moment ago
    assert "Too many sign-in attempts" in locked.json()["message"]


async def test_success_before_the_limit_resets_the_account(ctx: AppContext, user: TestUser) -> None:
    """Each attempt from a new address, so only the account's count matters."""
    strict = AppContext(settings=ctx.settings.model_copy(update={"login_rate_limit": LIMIT}), db=ctx.db)
    app = create_auth_app(strict)
    for password in ["not the password", user.password] * 2 + ["not the password"] * LIMIT:
        address = f"198.19.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
            response = await login(client, user.email, password)
        assert response.status_code == (200 if password == user.password else 401)
    # The account has now failed LIMIT times in a row: locked from any address.
    transport = httpx.ASGITransport(app=app, client=("198.19.255.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
        assert (await login(client, user.email, user.password)).status_code == 429
