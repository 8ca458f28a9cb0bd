"""``prompt`` at the authorization endpoint (OpenID Connect Core 3.1.2.1), in the OAuth core and
over the seed's POST /oauth/authorize; the web consent page's side is in tests/web/test_consent_prompt.py."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.oauth import authorize
from axiom_mcp.oauth.errors import InteractionRequired, InvalidRequest, LoginRequired, RedirectToClient
from tests.oauth.helpers import add_client, login_token, pkce, query_of, start_request
from tests.support.factories import TestUser


@pytest.mark.parametrize(("prompt", "error"), [("none", InteractionRequired), ("none consent", InvalidRequest),
                                               ("login none", InvalidRequest)], ids=["none", "none+consent", "login+none"])
async def test_prompt_none_is_answered_to_the_client(ctx: AppContext, prompt: str, error: type) -> None:
    client_id = await add_client(ctx)
    with pytest.raises(RedirectToClient) as caught:
        await start_request(ctx, client_id, pkce().challenge, prompt=prompt)
    assert isinstance(caught.value.cause, error)
    back = query_of(caught.value.redirect_url)
    assert back["error"] == error.error and back["state"] == "xyz" and back["iss"] == ctx.settings.issuer


async def test_prompt_login_needs_a_login_after_the_request(ctx: AppContext, account: TestUser) -> None:
    request_id = await start_request(ctx, await add_client(ctx), pkce().challenge, prompt="login consent")
    async with ctx.db.session() as session:
        pending = await authorize.load_pending(session, ctx.settings, request_id)
    assert pending.needs_login(pending.created - timedelta(days=1))
    assert pending.needs_login(pending.created)
    assert not pending.needs_login(pending.created + timedelta(seconds=1))
    with pytest.raises(LoginRequired):
        async with ctx.db.session() as session:
            await authorize.approve(session, ctx.settings, request_id, account.id,
                                    authenticated_at=pending.created - timedelta(minutes=5))
    async with ctx.db.session() as session:  # the refused approval kept the request
        url = await authorize.approve(session, ctx.settings, request_id, account.id,
                                      authenticated_at=pending.created + timedelta(seconds=1))
    assert query_of(url)["code"]


async def test_without_prompt_login_an_old_login_is_enough(ctx: AppContext, account: TestUser) -> None:
    request_id = await start_request(ctx, await add_client(ctx), pkce().challenge, prompt="consent")
    async with ctx.db.session() as session:
        url = await authorize.approve(session, ctx.settings, request_id, account.id,
                                      authenticated_at=authorize.utcnow() - timedelta(days=10))
    assert query_of(url)["code"]


async def test_the_seed_post_authorize_needs_a_login_token_issued_after_a_prompt_login_request(
    api: httpx.AsyncClient, ctx: AppContext, account: TestUser
) -> None:
    old = {"Authorization": f"Bearer {await login_token(ctx, account.id)}"}
    request_id = await start_request(ctx, await add_client(ctx), pkce().challenge, prompt="login")
    refused = await api.post("/oauth/authorize", json={"request_id": request_id, "decision": "allow"}, headers=old)
    assert refused.status_code == 400 and refused.json()["error"] == "login_required"
    fresh = {"Authorization": f"Bearer {await login_token(ctx, account.id)}"}
    answer = await api.post("/oauth/authorize", json={"request_id": request_id, "decision": "allow"}, headers=fresh)
    assert answer.status_code == 200, answer.text
    assert query_of(answer.json()["redirect_url"])["code"]
