"""POST /api/v1/auth/signup and the web sign-up form share one per-address limit, counted before
the password is hashed: over it, a 429 with Retry-After, no account and no argon2 hash."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import signup_throttle, users
from axiom_mcp.db.tables import SignupThrottle, User
from axiom_mcp.ids import utcnow
from axiom_mcp.observability import RequestLog
from axiom_mcp.web.app import create_web_app
from tests.auth_service.conftest import API, assert_error
from tests.support.factories import PASSWORD
from tests.web.helpers import submit

SIGNUP = f"{API}/auth/signup"
LIMIT = 2


def fresh_email() -> str:
    return f"new-{secrets.token_hex(6)}@example.com"


def fresh_address() -> str:
    return f"100.{secrets.randbelow(63) + 64}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"


@pytest.fixture
def strict(ctx: AppContext) -> AppContext:
    """Settings with a sign-up limit of 2 an hour, on the shared database."""
    return AppContext(settings=ctx.settings.model_copy(update={"signup_rate_limit": LIMIT}), db=ctx.db)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password create_user hashes (the real argon2 still runs): to see that none was spent."""
    seen: list[str] = []
    real: Callable[[str], Awaitable[str]] = users.hash_password_off_loop

    async def counted(password: str) -> str:
        seen.append(password)
        return await real(password)

    monkeypatch.setattr(users, "hash_password_off_loop", counted)
    return seen


async def accounts(ctx: AppContext, email: str) -> int:
    async with ctx.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0)


def client(app: object, address: str, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url=base_url)  # type: ignore[arg-type]


async def test_the_api_refuses_past_the_limit_before_hashing(
    ctx: AppContext, strict: AppContext, hashes: list[str]
) -> None:
    async with client(create_auth_app(strict), fresh_address(), ctx.settings.public_url) as api:
        for _ in range(LIMIT):
            assert (await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD})).status_code == 201
        assert len(hashes) == LIMIT
        email = fresh_email()
        refused = await api.post(SIGNUP, json={"email": email, "password": "a brand new password"})
    body = assert_error(refused, 429)
    assert body["message"] == "Too many sign-ups from this address. Try again in 60 minutes."
    assert body["data"] == {}
    window = strict.settings.signup_rate_window.total_seconds()
    assert window - 60 <= int(refused.headers["retry-after"]) <= window
    assert len(hashes) == LIMIT  # no argon2 for the refused attempt
    assert await accounts(ctx, email) == 0


async def test_a_taken_email_counts_too(ctx: AppContext, strict: AppContext) -> None:
    email = fresh_email()
    async with client(create_auth_app(strict), fresh_address(), ctx.settings.public_url) as api:
        assert (await api.post(SIGNUP, json={"email": email, "password": PASSWORD})).status_code == 201
        assert_error(await api.post(SIGNUP, json={"email": email, "password": PASSWORD}), 409, "email")
        assert_error(await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD}), 429)


async def test_an_invalid_body_is_refused_without_counting(ctx: AppContext, strict: AppContext) -> None:
    """Validation runs first and hashes nothing, so it need not use up the address's allowance."""
    async with client(create_auth_app(strict), fresh_address(), ctx.settings.public_url) as api:
        for _ in range(LIMIT + 2):
            assert_error(await api.post(SIGNUP, json={"email": "not an email", "password": PASSWORD}), 400, "email")
        assert (await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD})).status_code == 201


async def test_another_address_is_unaffected(ctx: AppContext, strict: AppContext) -> None:
    app = create_auth_app(strict)
    async with client(app, fresh_address(), ctx.settings.public_url) as api:
        for _ in range(LIMIT):
            await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD})
        assert_error(await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD}), 429)
    async with client(app, fresh_address(), ctx.settings.public_url) as elsewhere:
        assert (await elsewhere.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD})).status_code == 201


async def test_the_api_and_the_web_form_share_the_count(
    ctx: AppContext, strict: AppContext, hashes: list[str]
) -> None:
    address = fresh_address()
    async with client(create_auth_app(strict), address, ctx.settings.public_url) as api, \
            client(create_web_app(strict), address, ctx.settings.web_url) as web:
        assert (await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD})).status_code == 201
        made = await submit(web, "/auth/signup", name="Web", email=fresh_email(), password="long enough pw")
        assert made.status_code == 303
        web.cookies.clear()  # signed in now; sign up again as a stranger would
        email = fresh_email()
        refused = await submit(web, "/auth/signup", name="Web", email=email, password="long enough pw")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert "Too many sign-ups from this address" in refused.text
        assert email in refused.text  # the form comes back filled in
        assert_error(await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD}), 429)
    assert len(hashes) == LIMIT
    assert await accounts(ctx, email) == 0


async def test_behind_a_trusted_proxy_each_forwarded_client_is_counted(ctx: AppContext, strict: AppContext) -> None:
    """The limit keys on the address the login throttle uses: X-Forwarded-For from a trusted proxy."""
    proxy = fresh_address()
    app = RequestLog(create_auth_app(strict), service="auth", trusted_proxies=[proxy])
    first, second = fresh_address(), fresh_address()
    async with client(app, proxy, ctx.settings.public_url) as api:
        async def sign_up(forwarded_for: str) -> int:
            response = await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD},
                                      headers={"X-Forwarded-For": forwarded_for})
            return response.status_code

        assert [await sign_up(first) for _ in range(LIMIT + 1)] == [201] * LIMIT + [429]
        assert await sign_up(second) == 201  # another client behind the same proxy


async def test_the_window_expires(ctx: AppContext, strict: AppContext) -> None:
    """Through the app: a full allowance used an hour ago is no obstacle (the window is moved back,
    not slept through)."""
    address = fresh_address()
    async with client(create_auth_app(strict), address, ctx.settings.public_url) as api:
        for _ in range(LIMIT):
            await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD})
        assert_error(await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD}), 429)
        async with ctx.db.session() as session:
            await session.execute(
                update(SignupThrottle)
                .where(SignupThrottle.key == signup_throttle.address_key(address))
                .values(window_start=utcnow() - strict.settings.signup_rate_window - timedelta(seconds=1))
            )
        assert (await api.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD})).status_code == 201
