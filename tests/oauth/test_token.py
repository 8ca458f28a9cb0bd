"""POST /oauth/token: the authorization_code and refresh_token grants, one row per rule."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from axiom_mcp.context import AppContext
from axiom_mcp.db.tables import OAuthAuthorizationCode, OAuthRefreshToken
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret
from axiom_mcp.settings import DEFAULT_SCOPES
from tests.oauth.helpers import CLAUDE_REDIRECT, add_client, approved_code, pkce
from tests.support.factories import TestUser

SECRET = "axcs_test-secret-with-enough-entropy"


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def _code_request(ctx: AppContext, account: TestUser, **client: Any) -> tuple[str, dict[str, str]]:
    """A client, and a valid token request for a fresh code of it."""
    client_id = await add_client(ctx, **client)
    pair = pkce()
    code = await approved_code(ctx, client_id, account.id, pair.challenge, redirect_uri=CLAUDE_REDIRECT)
    return client_id, {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "code_verifier": pair.verifier,
        "redirect_uri": CLAUDE_REDIRECT,
    }


async def test_code_for_tokens(api: httpx.AsyncClient, ctx: AppContext, account: TestUser) -> None:
    client_id, form = await _code_request(ctx, account)
    response = await api.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == int(ctx.settings.access_token_ttl.total_seconds()) == 90 * 86400
    assert body["scope"] == " ".join(DEFAULT_SCOPES)
    assert body["access_token"].startswith("axat_") and body["refresh_token"].startswith("axrt_")
    info = await ctx.tokens.verify(body["access_token"])
    assert info is not None and info.user_id == account.id and info.client_id == client_id
    assert info.resource == ctx.settings.mcp_resource
    async with ctx.db.session() as session:
        stored = await session.scalar(select(OAuthRefreshToken).where(OAuthRefreshToken.client_id == client_id))
    assert stored is not None and stored.token_hash == hash_secret(body["refresh_token"])


async def test_no_refresh_token_without_the_grant(api: httpx.AsyncClient, ctx: AppContext, account: TestUser) -> None:
    _, form = await _code_request(ctx, account, grant_types=["authorization_code"])
    body = (await api.post("/oauth/token", data=form)).json()
    assert "access_token" in body and "refresh_token" not in body


@pytest.mark.parametrize("how", ["basic", "post"])
async def test_confidential_client_authenticates(api: httpx.AsyncClient, ctx: AppContext, account: TestUser,
                                                 how: str) -> None:
    client_id, form = await _code_request(ctx, account, secret=SECRET)
    if how == "basic":
        response = await api.post("/oauth/token", data={k: v for k, v in form.items() if k != "client_id"},
                                  headers=basic(client_id, SECRET))
    else:
        response = await api.post("/oauth/token", data={**form, "client_secret": SECRET})
    assert response.status_code == 200, response.text


async def test_resource_bound_at_authorization_is_the_audience(api: httpx.AsyncClient, ctx: AppContext,
                                                               account: TestUser) -> None:
    client_id = await add_client(ctx)
    pair = pkce()
    code = await approved_code(ctx, client_id, account.id, pair.challenge, resource=ctx.settings.api_resource)
    response = await api.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id, "code_verifier": pair.verifier,
        "resource": ctx.settings.api_resource,
    })
    assert response.status_code == 200, response.text
    info = await ctx.tokens.verify(response.json()["access_token"])
    assert info is not None and info.resource == ctx.settings.api_resource
    profile = await api.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    assert profile.status_code == 200, profile.text


# One row per rule: (id, change to the valid request, expected status, expected error).
CODE_ERRORS: list[tuple[str, dict[str, Any], int, str]] = [
    ("missing-grant-type", {"grant_type": None}, 400, "invalid_request"),
    ("password-grant", {"grant_type": "password"}, 400, "unsupported_grant_type"),
    ("client-credentials-grant", {"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
    ("missing-code", {"code": None}, 400, "invalid_request"),
    ("unknown-code", {"code": "axac_unknown"}, 400, "invalid_grant"),
    ("huge-code", {"code": "x" * 5000}, 400, "invalid_grant"),
    ("missing-verifier", {"code_verifier": None}, 400, "invalid_request"),
    ("wrong-verifier", {"code_verifier": "w" * 64}, 400, "invalid_grant"),
    ("short-verifier", {"code_verifier": "abc"}, 400, "invalid_grant"),
    ("challenge-as-verifier", {"_challenge_as_verifier": True}, 400, "invalid_grant"),
    ("redirect-mismatch", {"redirect_uri": "https://claude.com/api/mcp/auth_callback"}, 400, "invalid_grant"),
    ("redirect-missing", {"redirect_uri": None}, 400, "invalid_grant"),
    ("other-clients-code", {"_other_client": True}, 400, "invalid_grant"),
    ("unknown-client", {"client_id": "no-such-client"}, 401, "invalid_client"),
    ("missing-client", {"client_id": None}, 401, "invalid_client"),
    ("foreign-resource", {"resource": "https://evil.example/mcp"}, 400, "invalid_target"),
    ("other-resource", {"resource": "http://localhost:8090/api/v1"}, 400, "invalid_target"),
    ("expired-code", {"_expire": True}, 400, "invalid_grant"),
    ("public-client-sends-secret", {"client_secret": "guess"}, 401, "invalid_client"),
    ("repeated-parameter", {"_repeat": "code"}, 400, "invalid_request"),
    ("text-plain-body", {"_content_type": "text/plain"}, 400, "invalid_request"),
]


@pytest.mark.parametrize(("changes", "status", "error"), [r[1:] for r in CODE_ERRORS], ids=[r[0] for r in CODE_ERRORS])
async def test_code_grant_errors(api: httpx.AsyncClient, ctx: AppContext, account: TestUser, changes: dict[str, Any],
                                 status: int, error: str) -> None:
    client_id, form = await _code_request(ctx, account)
    changes = dict(changes)
    if changes.pop("_other_client", False):
        form["client_id"] = await add_client(ctx)
    if changes.pop("_challenge_as_verifier", False):
        async with ctx.db.session() as session:
            code = await session.scalar(select(OAuthAuthorizationCode).where(
                OAuthAuthorizationCode.code_hash == hash_secret(form["code"])))
        assert code is not None
        form["code_verifier"] = code.code_challenge
    if changes.pop("_expire", False):
        async with ctx.db.session() as session:
            await session.execute(update(OAuthAuthorizationCode).where(
                OAuthAuthorizationCode.code_hash == hash_secret(form["code"])).values(expires=utcnow() - timedelta(seconds=1)))
    repeat = changes.pop("_repeat", None)
    content_type = changes.pop("_content_type", None)
    for key, value in changes.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    pairs = list(form.items()) + ([(repeat, form[repeat])] if repeat else [])
    if content_type:
        response = await api.post("/oauth/token", content=httpx.QueryParams(pairs).__str__().encode(),
                                  headers={"Content-Type": content_type})
    else:
        response = await api.post("/oauth/token", data=dict(pairs) if not repeat else None,
                                  content=None if not repeat else str(httpx.QueryParams(pairs)).encode(),
                                  headers={} if not repeat else {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"
    if status == 401 and "client" in error:
        assert response.json()["error"] == "invalid_client"


CONFIDENTIAL_ERRORS = [
    ("no-secret", {}, None, "invalid_client"),
    ("wrong-secret-post", {"client_secret": "wrong"}, None, "invalid_client"),
    ("wrong-secret-basic", {}, "wrong", "invalid_client"),
    ("basic-and-post", {"client_secret": SECRET}, SECRET, "invalid_request"),
    ("malformed-basic", {}, "!malformed", "invalid_client"),
]


@pytest.mark.parametrize(("extra", "basic_secret", "error"), [r[1:] for r in CONFIDENTIAL_ERRORS],
                         ids=[r[0] for r in CONFIDENTIAL_ERRORS])
async def test_confidential_client_errors(api: httpx.AsyncClient, ctx: AppContext, account: TestUser,
                                          extra: dict[str, str], basic_secret: str | None, error: str) -> None:
    client_id, form = await _code_request(ctx, account, secret=SECRET)
    headers = {}
    if basic_secret == "!malformed":
        headers = {"Authorization": "Basic %%%"}
    elif basic_secret is not None:
        headers = basic(client_id, basic_secret)
    response = await api.post("/oauth/token", data={**form, **extra}, headers=headers)
    assert response.json()["error"] == error, response.text
    if error == "invalid_client":
        assert response.status_code == 401
        if basic_secret is not None:
            assert response.headers["www-authenticate"].startswith("Basic")
    # The code was not spent by a request that failed to authenticate the client.
    assert (await api.post("/oauth/token", data={**form, "client_secret": SECRET})).status_code == 200


async def test_replayed_code_revokes_what_it_issued(api: httpx.AsyncClient, ctx: AppContext, account: TestUser) -> None:
    _, form = await _code_request(ctx, account)
    first = (await api.post("/oauth/token", data=form)).json()
    assert await ctx.tokens.verify(first["access_token"]) is not None  # now cached in this process
    replay = await api.post("/oauth/token", data=form)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert await ctx.tokens.verify(first["access_token"]) is None  # forgotten at once, not after the cache
    refreshed = await api.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": form["client_id"]})
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_a_failed_redemption_spends_the_code(api: httpx.AsyncClient, ctx: AppContext, account: TestUser) -> None:
    _, form = await _code_request(ctx, account)
    wrong = await api.post("/oauth/token", data={**form, "code_verifier": "w" * 64})
    assert wrong.json()["error"] == "invalid_grant"
    right = await api.post("/oauth/token", data=form)
    assert right.status_code == 400 and right.json()["error"] == "invalid_grant"


# --- refresh -------------------------------------------------------------------------------------


async def _tokens(api: httpx.AsyncClient, ctx: AppContext, account: TestUser, **client: Any) -> tuple[str, dict[str, Any]]:
    client_id, form = await _code_request(ctx, account, **client)
    response = await api.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return client_id, response.json()


async def _refresh(api: httpx.AsyncClient, client_id: str, refresh_token: str, **extra: str) -> httpx.Response:
    return await api.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id, **extra})


async def test_refresh_rotation_grace_and_reuse(api: httpx.AsyncClient, ctx: AppContext, account: TestUser) -> None:
    client_id, first = await _tokens(api, ctx, account)
    r1 = first["refresh_token"]

    second = (await _refresh(api, client_id, r1)).json()
    r2 = second["refresh_token"]
    assert r2 != r1 and second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]

    # The client lost the answer and retries with r1: still valid, since r2 was never used.
    retry = await _refresh(api, client_id, r1)
    assert retry.status_code == 200, retry.text
    r3 = retry.json()["refresh_token"]
    # Only one successor stays unused: the earlier answer's token is replaced.
    assert (await _refresh(api, client_id, r2)).json()["error"] == "invalid_grant"

    fourth = await _refresh(api, client_id, r3)  # the successor is used: r1 is retired for good
    assert fourth.status_code == 200
    r4 = fourth.json()["refresh_token"]
    access = fourth.json()["access_token"]
    assert await ctx.tokens.verify(access) is not None

    reuse = await _refresh(api, client_id, r1)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # Reuse of an old token revokes the chain: every access and refresh token of the grant.
    assert await ctx.tokens.verify(access) is None
    assert await ctx.tokens.verify(first["access_token"]) is None
    assert (await _refresh(api, client_id, r4)).json()["error"] == "invalid_grant"


async def test_refresh_may_narrow_scope(api: httpx.AsyncClient, ctx: AppContext, account: TestUser) -> None:
    client_id, first = await _tokens(api, ctx, account)
    narrowed = await _refresh(api, client_id, first["refresh_token"], scope="items:read")
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == "items:read"
    info = await ctx.tokens.verify(narrowed.json()["access_token"])
    assert info is not None and info.scopes == {"items:read"}
    # The new refresh token keeps the original scope (RFC 6749 section 6).
    again = await _refresh(api, client_id, narrowed.json()["refresh_token"])
    assert again.json()["scope"] == first["scope"]


REFRESH_ERRORS: list[tuple[str, dict[str, Any], int, str]] = [
    ("missing-token", {"refresh_token": None}, 400, "invalid_request"),
    ("unknown-token", {"refresh_token": "axrt_unknown"}, 400, "invalid_grant"),
    ("access-token-as-refresh", {"_use_access": True}, 400, "invalid_grant"),
    ("other-client", {"_other_client": True}, 400, "invalid_grant"),
    ("widening-scope", {"scope": "items:read offline_access"}, 400, "invalid_scope"),
    ("unknown-scope", {"scope": "admin"}, 400, "invalid_scope"),
    ("other-resource", {"resource": "http://localhost:8090/api/v1"}, 400, "invalid_target"),
    ("expired", {"_expire": True}, 400, "invalid_grant"),
    ("revoked", {"_revoke": True}, 400, "invalid_grant"),
    ("client-without-refresh-grant", {"_no_refresh_grant": True}, 400, "unauthorized_client"),
]


@pytest.mark.parametrize(("changes", "status", "error"), [r[1:] for r in REFRESH_ERRORS],
                         ids=[r[0] for r in REFRESH_ERRORS])
async def test_refresh_errors(api: httpx.AsyncClient, ctx: AppContext, account: TestUser, changes: dict[str, Any],
                              status: int, error: str) -> None:
    client_id, first = await _tokens(api, ctx, account)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": client_id}
    changes = dict(changes)
    digest = hash_secret(first["refresh_token"])
    if changes.pop("_use_access", False):
        form["refresh_token"] = first["access_token"]
    if changes.pop("_other_client", False):
        form["client_id"] = await add_client(ctx)
    if changes.pop("_no_refresh_grant", False):
        form["client_id"] = await add_client(ctx, grant_types=["authorization_code"])
    for flag, values in (("_expire", {"expires": utcnow() - timedelta(seconds=1)}), ("_revoke", {"revoked": True})):
        if changes.pop(flag, False):
            async with ctx.db.session() as session:
                await session.execute(update(OAuthRefreshToken).where(OAuthRefreshToken.token_hash == digest).values(**values))
    for key, value in changes.items():
        if value is None:
            form.pop(key)
        else:
            form[key] = value
    response = await api.post("/oauth/token", data=form)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
