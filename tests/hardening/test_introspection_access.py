"""Introspection answers only those entitled to know (RFC 7662 sections 2.1 and 4).

Who learns about a token: the client it was issued to, and Axiom's own resource servers (the
confidential clients named in ``AXIOM_INTROSPECTION_CLIENTS``). Any other client, however well
authenticated, gets ``{"active": false}``: otherwise a self-registered client could test a stolen
refresh token without tripping reuse detection, and learn whose it is and what it may do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from tests.hardening.oauth_flow import Client, Pkce, code_for, redeem, register, tokens
from tests.support.factories import TestUser, make_user


@dataclass
class Services:
    ctx: AppContext
    api: httpx.AsyncClient
    resource_server: Client
    """A confidential client the operator named as one of Axiom's resource servers."""


@pytest.fixture(scope="module")
async def services(ctx: AppContext) -> AsyncIterator[Services]:
    open_registration = ctx.settings.model_copy(update={"registration_rate_limit": 1_000_000})
    transport = httpx.ASGITransport(app=create_auth_app(AppContext(settings=open_registration, db=ctx.db)))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as registrar:
        resource_server = await register(registrar, token_endpoint_auth_method="client_secret_post",
                                         client_name="Reports service")
    settings = open_registration.model_copy(update={"introspection_clients": [resource_server.client_id]})
    shared = AppContext(settings=settings, db=ctx.db)
    transport = httpx.ASGITransport(app=create_auth_app(shared))
    async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as api:
        yield Services(shared, api, resource_server)


@pytest.fixture(scope="module")
async def owner(services: Services) -> TestUser:
    return await make_user(services.ctx, name="Token owner")


async def _introspect(api: httpx.AsyncClient, asker: Client, token: str) -> dict[str, object]:
    response = await api.post("/oauth/introspect",
                              data={"token": token, "client_id": asker.client_id, "client_secret": asker.secret})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_another_confidential_client_learns_nothing(services: Services, owner: TestUser) -> None:
    s = services
    app = await register(s.api)
    issued = await tokens(s.api, s.ctx, app, owner.id)
    intruder = await register(s.api, token_endpoint_auth_method="client_secret_post")

    for token in (issued["access_token"], issued["refresh_token"]):
        assert await _introspect(s.api, intruder, token) == {"active": False}
    # The probe changed nothing: the owner's client still refreshes.
    refreshed = await s.api.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": issued["refresh_token"], "client_id": app.client_id})
    assert refreshed.status_code == 200, refreshed.text


async def test_the_tokens_own_client_learns_about_it(services: Services, owner: TestUser) -> None:
    s = services
    app = await register(s.api, token_endpoint_auth_method="client_secret_post")
    pkce = Pkce.new()
    code = await code_for(s.api, s.ctx, app, owner.id, pkce)
    redeemed = await redeem(s.api, app, code, pkce, client_secret=app.secret)
    assert redeemed.status_code == 200, redeemed.text
    issued = redeemed.json()
    for token, kind in ((issued["access_token"], "Bearer"), (issued["refresh_token"], "refresh_token")):
        answer = await _introspect(s.api, app, token)
        assert answer["active"] is True and answer["token_type"] == kind
        assert (answer["client_id"], answer["sub"]) == (app.client_id, owner.id)


async def test_axioms_own_resource_server_learns_about_any_token(services: Services, owner: TestUser) -> None:
    s = services
    app = await register(s.api)
    issued = await tokens(s.api, s.ctx, app, owner.id)
    answer = await _introspect(s.api, s.resource_server, issued["access_token"])
    assert answer["active"] is True and (answer["client_id"], answer["sub"]) == (app.client_id, owner.id)


async def test_a_bearer_of_another_client_learns_nothing(services: Services, owner: TestUser) -> None:
    s = services
    victim_app, other_app = await register(s.api), await register(s.api)
    victim = await tokens(s.api, s.ctx, victim_app, owner.id)
    other = await tokens(s.api, s.ctx, other_app, owner.id)
    response = await s.api.post("/oauth/introspect", data={"token": victim["refresh_token"]},
                                headers={"Authorization": f"Bearer {other['access_token']}"})
    assert response.json() == {"active": False}
