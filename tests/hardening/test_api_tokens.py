"""API tokens (from ``POST /api/v1/auth/login``) can be listed and revoked, and die with the password.

They carry every scope for 90 days, so their holder must be able to see and end them: list them
(``GET /api/v1/auth/tokens``), revoke one (``DELETE /api/v1/auth/tokens/{id}``), sign out
(``POST /api/v1/auth/logout``) or revoke one at ``/oauth/revoke`` as RFC 7009 allows a public
client. A password change ends every one of them. Only an API token may manage API tokens: an
app's OAuth token cannot see or end them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from axiom_mcp.app import create_auth_app, create_web_app
from axiom_mcp.context import AppContext
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from tests.support.factories import TestUser, make_token, make_user
from tests.web.helpers import own_address, sign_in_directly, submit


@pytest.fixture
async def api(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_auth_app(ctx), client=(own_address(), 50000))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
        yield client


@pytest.fixture
async def holder(ctx: AppContext) -> TestUser:
    return await make_user(ctx, name="API user")


async def _login(api: httpx.AsyncClient, user: TestUser, password: str | None = None) -> str:
    response = await api.post("/api/v1/auth/login", json={"email": user.email, "password": password or user.password})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _works(api: httpx.AsyncClient, token: str) -> bool:
    return (await api.get("/api/v1/user/profile", headers=_bearer(token))).status_code == 200


async def test_api_tokens_are_listed_and_revoked_one_by_one(api: httpx.AsyncClient, holder: TestUser) -> None:
    mine, other = await _login(api, holder), await _login(api, holder)

    listed = await api.get("/api/v1/auth/tokens", headers=_bearer(mine))

    assert listed.status_code == 200, listed.text
    entries = listed.json()["items"]
    assert len(entries) == 2 and [e["current"] for e in entries].count(True) == 1
    assert all(set(e) >= {"id", "created", "expires", "scope", "current"} for e in entries)
    assert mine not in listed.text and other not in listed.text  # ids, never the secrets
    other_id = next(e["id"] for e in entries if not e["current"])
    gone = await api.delete(f"/api/v1/auth/tokens/{other_id}", headers=_bearer(mine))
    assert gone.status_code == 204, gone.text
    assert not await _works(api, other) and await _works(api, mine)
    again = await api.delete(f"/api/v1/auth/tokens/{other_id}", headers=_bearer(mine))
    assert again.status_code == 404


async def test_logout_ends_the_token(api: httpx.AsyncClient, holder: TestUser) -> None:
    token = await _login(api, holder)
    response = await api.post("/api/v1/auth/logout", headers=_bearer(token))
    assert response.status_code == 204, response.text
    assert not await _works(api, token)


async def test_the_holder_revokes_it_at_the_revocation_endpoint(api: httpx.AsyncClient, holder: TestUser) -> None:
    token = await _login(api, holder)
    response = await api.post("/oauth/revoke", data={"token": token, "client_id": FIRST_PARTY_CLIENT_ID})
    assert response.status_code == 200, response.text
    assert not await _works(api, token)


async def test_a_password_change_ends_every_api_token(ctx: AppContext, api: httpx.AsyncClient,
                                                      holder: TestUser) -> None:
    first, second = await _login(api, holder), await _login(api, holder)
    assert await _works(api, first)  # verified, so this process caches it
    transport = httpx.ASGITransport(app=create_web_app(ctx), client=(own_address(), 50001))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.web_url) as web:
        await sign_in_directly(ctx, web, holder.id)
        changed = await submit(web, "/account", "/account/password", current_password=holder.password,
                               new_password="an entirely new passphrase", confirm_password="an entirely new passphrase")
        assert changed.status_code == 303, changed.text
    assert not await _works(api, first) and not await _works(api, second)
    assert await _works(api, await _login(api, holder, "an entirely new passphrase"))


async def test_another_users_token_and_an_apps_token_manage_nothing(ctx: AppContext, api: httpx.AsyncClient,
                                                                      holder: TestUser) -> None:
    token = await _login(api, holder)
    own_id = (await api.get("/api/v1/auth/tokens", headers=_bearer(token))).json()["items"][0]["id"]
    stranger = await make_user(ctx, name="Stranger")
    stranger_token = await _login(api, stranger)
    assert (await api.delete(f"/api/v1/auth/tokens/{own_id}", headers=_bearer(stranger_token))).status_code == 404
    app_token = await make_token(ctx, holder.id, ["profile:read"])  # an OAuth app's token for the API
    assert (await api.get("/api/v1/auth/tokens", headers=_bearer(app_token))).status_code == 403
    assert (await api.delete(f"/api/v1/auth/tokens/{own_id}", headers=_bearer(app_token))).status_code == 403
    assert (await api.post("/api/v1/auth/logout", headers=_bearer(app_token))).status_code == 403
    assert await _works(api, token)
