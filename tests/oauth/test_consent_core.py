"""The core the web app's consent page calls: load_pending, approve, deny, connected apps."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from axiom_mcp.context import AppContext
from axiom_mcp.db.tables import OAuthAuthorizationCode, OAuthAuthorizationRequest
from axiom_mcp.errors import NotFoundError
from axiom_mcp.oauth import authorize, consents
from axiom_mcp.oauth.errors import OAuthError
from axiom_mcp.security.secrets import hash_secret
from axiom_mcp.settings import DEFAULT_SCOPES
from tests.oauth.helpers import CLAUDE_REDIRECT, add_client, approved_code, pkce, query_of, start_request
from tests.support.factories import TestUser


async def test_load_pending_shows_what_was_validated(ctx: AppContext) -> None:
    client_id = await add_client(ctx, name="Claude")
    request_id = await start_request(ctx, client_id, pkce().challenge, scope="items:read offline_access")
    async with ctx.db.session() as session:
        pending = await authorize.load_pending(session, ctx.settings, request_id)
        stored = await session.scalar(select(OAuthAuthorizationRequest).where(OAuthAuthorizationRequest.client_id == client_id))
    assert (pending.client_name, pending.client_source, pending.redirect_host) == ("Claude", "dcr", "claude.ai")
    assert pending.scopes == ["items:read", "offline_access"]
    assert pending.resource == ctx.settings.mcp_resource
    assert pending.state == "xyz"
    assert stored is not None and stored.request_hash == hash_secret(request_id) and request_id not in stored.request_hash


async def test_approve_issues_a_code_and_records_consent(ctx: AppContext, user: TestUser) -> None:
    client_id = await add_client(ctx)
    request_id = await start_request(ctx, client_id, pkce().challenge)
    async with ctx.db.session() as session:
        url = await authorize.approve(session, ctx.settings, request_id, user.id)
    assert url.startswith(CLAUDE_REDIRECT + "?")
    params = query_of(url)
    assert params["state"] == "xyz" and params["iss"] == ctx.settings.issuer and params["code"].startswith("axac_")
    async with ctx.db.session() as session:
        code = await session.scalar(
            select(OAuthAuthorizationCode).where(OAuthAuthorizationCode.code_hash == hash_secret(params["code"]))
        )
        assert code is not None and code.user_id == user.id and not code.used
        assert (code.expires - code.created).total_seconds() == pytest.approx(600)
        apps = await consents.list_connected_apps(session, user.id)
        # The request is single use.
        with pytest.raises(OAuthError) as caught:
            await authorize.load_pending(session, ctx.settings, request_id)
        assert caught.value.error == "invalid_request"
    assert [(a.client_id, a.scopes) for a in apps] == [(client_id, list(DEFAULT_SCOPES))]


async def test_deny_redirects_with_access_denied(ctx: AppContext) -> None:
    client_id = await add_client(ctx)
    request_id = await start_request(ctx, client_id, pkce().challenge)
    async with ctx.db.session() as session:
        url = await authorize.deny(session, ctx.settings, request_id)
    params = query_of(url)
    assert params["error"] == "access_denied" and params["state"] == "xyz" and params["iss"] == ctx.settings.issuer
    async with ctx.db.session() as session:
        with pytest.raises(OAuthError):
            await authorize.approve(session, ctx.settings, request_id, "nobody")


@pytest.mark.parametrize("request_id", ["", "axar_unknown", "x" * 500], ids=["empty", "unknown", "huge"])
async def test_load_pending_refuses_unknown_ids(ctx: AppContext, request_id: str) -> None:
    async with ctx.db.session() as session:
        with pytest.raises(OAuthError) as caught:
            await authorize.load_pending(session, ctx.settings, request_id)
    assert caught.value.error == "invalid_request"


async def test_consent_widens_and_revoke_removes_it(ctx: AppContext, user: TestUser, other_user: TestUser) -> None:
    client_id = await add_client(ctx)
    await approved_code(ctx, client_id, user.id, pkce().challenge, scope="items:read")
    await approved_code(ctx, client_id, user.id, pkce().challenge, scope="tags:read")
    async with ctx.db.session() as session:
        (app,) = await consents.list_connected_apps(session, user.id)
        assert app.scopes == ["items:read", "tags:read"]
        with pytest.raises(NotFoundError):
            await consents.revoke_connected_app(session, other_user.id, client_id)
    async with ctx.db.session() as session:
        await consents.revoke_connected_app(session, user.id, client_id)
    async with ctx.db.session() as session:
        assert await consents.list_connected_apps(session, user.id) == []
        with pytest.raises(NotFoundError):
            await consents.revoke_connected_app(session, user.id, client_id)
