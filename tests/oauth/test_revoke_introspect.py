"""RFC 7009 revocation, RFC 7662 introspection and the seed's /oauth/validate."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.app import create_auth_app
from tests.oauth.helpers import CLAUDE_REDIRECT, add_client, approved_code, pkce, with_settings
from tests.support.factories import TestUser, make_token

SECRET = "axcs_resource-server-secret"


async def _tokens(api: httpx.AsyncClient, ctx: AppContext, user: TestUser, **client: Any) -> tuple[str, dict[str, Any]]:
    client_id = await add_client(ctx, **client)
    pair = pkce()
    code = await approved_code(ctx, client_id, user.id, pair.challenge)
    form = {"grant_type": "authorization_code", "code": code, "client_id": client_id, "code_verifier": pair.verifier}
    if client.get("secret"):
        form["client_secret"] = client["secret"]
    response = await api.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return client_id, response.json()


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


# --- revocation ----------------------------------------------------------------------------------


async def test_revoking_an_access_token(api: httpx.AsyncClient, ctx: AppContext, account: TestUser) -> None:
    client_id, tokens = await _tokens(api, ctx, account)
    assert await ctx.tokens.verify(tokens["access_token"]) is not None  # cached
    response = await api.post("/oauth/revoke", data={"token": tokens["access_token"], "client_id": client_id})
    assert response.status_code == 200
    assert await ctx.tokens.verify(tokens["access_token"]) is None
    # The refresh token (the grant) lives on: only the access token was revoked.
    refreshed = await api.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id})
    assert refreshed.status_code == 200


async def test_revoking_a_refresh_token_revokes_the_grant(api: httpx.AsyncClient, ctx: AppContext,
                                                          account: TestUser) -> None:
    client_id, tokens = await _tokens(api, ctx, account)
    assert await ctx.tokens.verify(tokens["access_token"]) is not None
    response = await api.post("/oauth/revoke", data={
        "token": tokens["refresh_token"], "token_type_hint": "refresh_token", "client_id": client_id})
    assert response.status_code == 200
    assert await ctx.tokens.verify(tokens["access_token"]) is None
    refreshed = await api.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id})
    assert refreshed.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("token", ["axat_unknown", "x" * 600], ids=["unknown", "huge"])
async def test_unknown_tokens_revoke_quietly(api: httpx.AsyncClient, ctx: AppContext, token: str) -> None:
    client_id = await add_client(ctx)
    response = await api.post("/oauth/revoke", data={"token": token, "client_id": client_id, "token_type_hint": "bogus"})
    assert response.status_code == 200


async def test_another_clients_token_is_not_revoked(api: httpx.AsyncClient, ctx: AppContext, account: TestUser) -> None:
    _, tokens = await _tokens(api, ctx, account)
    intruder = await add_client(ctx)
    response = await api.post("/oauth/revoke", data={"token": tokens["access_token"], "client_id": intruder})
    assert response.status_code == 200
    assert await ctx.tokens.verify(tokens["access_token"]) is not None


REVOKE_ERRORS = [
    ("missing-token", {"token": None}, 400, "invalid_request"),
    ("unknown-client", {"client_id": "nobody"}, 401, "invalid_client"),
    ("confidential-without-secret", {"_confidential": True}, 401, "invalid_client"),
]


@pytest.mark.parametrize(("changes", "status", "error"), [r[1:] for r in REVOKE_ERRORS], ids=[r[0] for r in REVOKE_ERRORS])
async def test_revoke_errors(api: httpx.AsyncClient, ctx: AppContext, changes: dict[str, Any], status: int,
                             error: str) -> None:
    changes = dict(changes)
    secret = SECRET if changes.pop("_confidential", False) else None
    form: dict[str, Any] = {"token": "axat_x", "client_id": await add_client(ctx, secret=secret), **changes}
    response = await api.post("/oauth/revoke", data={k: v for k, v in form.items() if v is not None})
    assert response.status_code == status
    assert response.json()["error"] == error


# --- introspection -------------------------------------------------------------------------------


async def test_a_resource_server_introspects_with_client_credentials(ctx: AppContext, account: TestUser) -> None:
    """A resource server the operator named in ``introspection_clients`` may ask about any token."""
    resource_server = await add_client(ctx, secret=SECRET, name="Reports service")
    named = with_settings(ctx, introspection_clients=[resource_server])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_auth_app(named)),
                                 base_url=ctx.settings.public_url) as api:
        client_id, tokens = await _tokens(api, named, account)
        response = await api.post("/oauth/introspect", data={"token": tokens["access_token"]},
                                  headers=basic(resource_server, SECRET))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["active"] is True and body["token_type"] == "Bearer"
        assert (body["client_id"], body["sub"], body["aud"], body["iss"]) == (
            client_id, account.id, named.settings.mcp_resource, ctx.settings.issuer)
        assert body["scope"] == tokens["scope"] and body["exp"] > body["iat"]
        refresh = await api.post("/oauth/introspect", data={"token": tokens["refresh_token"], "client_id": resource_server,
                                                             "client_secret": SECRET})
        assert refresh.json()["active"] is True and refresh.json()["token_type"] == "refresh_token"
        await api.post("/oauth/revoke", data={"token": tokens["access_token"], "client_id": client_id})
        after = await api.post("/oauth/introspect", data={"token": tokens["access_token"]},
                               headers=basic(resource_server, SECRET))
        assert after.json() == {"active": False}


async def test_a_bearer_introspects_only_its_own_client_and_user(api: httpx.AsyncClient, ctx: AppContext,
                                                                 account: TestUser) -> None:
    client_id, tokens = await _tokens(api, ctx, account)
    _, sibling = await _tokens(api, ctx, account)
    own = await api.post("/oauth/introspect", data={"token": tokens["refresh_token"]},
                         headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert own.json()["active"] is True and own.json()["client_id"] == client_id
    foreign = await api.post("/oauth/introspect", data={"token": sibling["access_token"]},
                             headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert foreign.json() == {"active": False}


INTROSPECT_ERRORS = [
    ("anonymous", {}, {}, 401, "invalid_client"),
    ("public-client", {"_public": True}, {}, 401, "invalid_client"),
    ("wrong-secret", {"_confidential": "wrong"}, {}, 401, "invalid_client"),
    ("dead-bearer", {}, {"Authorization": "Bearer axat_dead"}, 401, "invalid_token"),
    ("missing-token", {"_confidential": SECRET, "token": None}, {}, 400, "invalid_request"),
]


@pytest.mark.parametrize(("changes", "headers", "status", "error"), [r[1:] for r in INTROSPECT_ERRORS],
                         ids=[r[0] for r in INTROSPECT_ERRORS])
async def test_introspect_errors(api: httpx.AsyncClient, ctx: AppContext, changes: dict[str, Any],
                                 headers: dict[str, str], status: int, error: str) -> None:
    changes = dict(changes)
    form: dict[str, Any] = {"token": "axat_whatever"}
    if changes.pop("_public", False):
        form["client_id"] = await add_client(ctx)
    secret = changes.pop("_confidential", None)
    if secret:
        form.update(client_id=await add_client(ctx, secret=SECRET), client_secret=secret)
    form.update(changes)
    response = await api.post("/oauth/introspect", data={k: v for k, v in form.items() if v is not None},
                              headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


# --- the seed's /oauth/validate ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["bearer", "form", "json"])
async def test_validate(api: httpx.AsyncClient, ctx: AppContext, account: TestUser, how: str) -> None:
    token = await make_token(ctx, account.id, ["items:read"], resource=ctx.settings.mcp_resource)
    sent: dict[str, Any] = {
        "bearer": {"headers": {"Authorization": f"Bearer {token}"}},
        "form": {"data": {"token": token}},
        "json": {"json": {"token": token}},
    }[how]
    response = await api.post("/oauth/validate", **sent)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["valid"] is True and body["user_id"] == account.id and body["scope"] == "items:read"
    assert body["resource"] == ctx.settings.mcp_resource


@pytest.mark.parametrize("token", [None, "axat_nope"], ids=["missing", "unknown"])
async def test_validate_refuses(api: httpx.AsyncClient, token: str | None) -> None:
    response = await api.post("/oauth/validate", data={"token": token} if token else {})
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


async def test_redirect_uri_omitted_at_both_ends(api: httpx.AsyncClient, ctx: AppContext, account: TestUser) -> None:
    """The client registered one URI and named it nowhere: the token request needs none either."""
    client_id = await add_client(ctx, redirect_uris=[CLAUDE_REDIRECT])
    pair = pkce()
    code = await approved_code(ctx, client_id, account.id, pair.challenge)
    response = await api.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id, "code_verifier": pair.verifier})
    assert response.status_code == 200, response.text
