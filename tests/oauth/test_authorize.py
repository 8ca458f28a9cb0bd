"""GET and POST /oauth/authorize: one row per rule; errors shown or sent back to the client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.oauth import authorize
from axiom_mcp.settings import DEFAULT_SCOPES
from tests.oauth.helpers import (
    CHATGPT_REDIRECT,
    CLAUDE_REDIRECT,
    add_client,
    authorize_query,
    login_token,
    pkce,
    query_of,
    start_request,
)
from tests.support.factories import TestUser, make_token

SECOND_REDIRECT = "https://claude.com/api/mcp/auth_callback"

# Errors that must be shown to the user, never redirected: the client or its redirect URI is not verified.
SHOWN: list[tuple[str, dict[str, Any], str]] = [
    ("missing-client-id", {"client_id": None}, "invalid_client"),
    ("unknown-client-id", {"client_id": "no-such-client"}, "invalid_client"),
    ("unregistered-redirect", {"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
    ("redirect-trailing-slash", {"redirect_uri": CLAUDE_REDIRECT + "/"}, "invalid_request"),
    ("redirect-case", {"redirect_uri": CLAUDE_REDIRECT.replace("claude", "Claude")}, "invalid_request"),
    ("redirect-extra-query", {"redirect_uri": CLAUDE_REDIRECT + "?next=evil"}, "invalid_request"),
    ("javascript-redirect", {"redirect_uri": "javascript:alert(1)"}, "invalid_request"),
    ("redirect-required-with-two", {"redirect_uri": None, "_two_uris": True}, "invalid_request"),
    ("client-id-repeated", {"_repeat": "client_id"}, "invalid_request"),
    ("redirect-repeated", {"_repeat": "redirect_uri"}, "invalid_request"),
]

# Errors sent back to the verified redirect URI, with state and iss.
REDIRECTED: list[tuple[str, dict[str, Any], str]] = [
    ("missing-response-type", {"response_type": None}, "invalid_request"),
    ("implicit-response-type", {"response_type": "token"}, "unsupported_response_type"),
    ("missing-challenge", {"code_challenge": None}, "invalid_request"),
    ("plain-challenge", {"code_challenge_method": "plain"}, "invalid_request"),
    ("missing-challenge-method", {"code_challenge_method": None}, "invalid_request"),
    ("malformed-challenge", {"code_challenge": "short"}, "invalid_request"),
    ("unknown-scope", {"scope": "items:read admin"}, "invalid_scope"),
    ("scope-beyond-registration", {"scope": "items:write", "_client_scope": "items:read"}, "invalid_scope"),
    ("foreign-resource", {"resource": "https://evil.example/mcp"}, "invalid_target"),
    ("resource-trailing-slash", {"resource": "http://localhost:8091/mcp/"}, "invalid_target"),
    ("two-resources", {"resource": ["http://localhost:8091/mcp", "http://localhost:8090/api/v1"]}, "invalid_target"),
    ("scope-repeated", {"_repeat": "scope"}, "invalid_request"),
]


async def _get(api: httpx.AsyncClient, ctx: AppContext, changes: dict[str, Any]) -> httpx.Response:
    changes = dict(changes)
    two = changes.pop("_two_uris", False)
    repeat = changes.pop("_repeat", None)
    client_scope = changes.pop("_client_scope", None)
    client_id = await add_client(ctx, redirect_uris=[CLAUDE_REDIRECT, SECOND_REDIRECT] if two else None,
                                 scope=client_scope)
    params: dict[str, Any] = {**authorize_query(client_id, pkce().challenge), "redirect_uri": CLAUDE_REDIRECT,
                              "scope": "items:read"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    pairs = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
    if repeat:
        pairs.append((repeat, params.get(repeat, "again")))
    return await api.get("/oauth/authorize", params=pairs)


@pytest.mark.parametrize(("changes", "error"), [r[1:] for r in SHOWN], ids=[r[0] for r in SHOWN])
async def test_errors_shown_not_redirected(api: httpx.AsyncClient, ctx: AppContext, changes: dict[str, Any],
                                           error: str) -> None:
    response = await _get(api, ctx, changes)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert f"<code>{error}</code>" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(("changes", "error"), [r[1:] for r in REDIRECTED], ids=[r[0] for r in REDIRECTED])
async def test_errors_redirected_to_the_client(api: httpx.AsyncClient, ctx: AppContext, changes: dict[str, Any],
                                               error: str) -> None:
    response = await _get(api, ctx, changes)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(CLAUDE_REDIRECT + "?")
    params = query_of(location)
    assert params["error"] == error
    assert params["iss"] == ctx.settings.issuer
    assert params.get("state") == "xyz"


async def test_error_page_escapes_what_it_echoes(api: httpx.AsyncClient) -> None:
    response = await api.get("/oauth/authorize", params={"client_id": "<script>alert(1)</script>" * 200})
    assert response.status_code == 400
    assert "<script>" not in response.text


@pytest.mark.parametrize(
    ("registered", "asked", "extra", "resource"),
    [
        ([CLAUDE_REDIRECT], CLAUDE_REDIRECT, {}, "mcp_resource"),
        ([CLAUDE_REDIRECT], None, {}, "mcp_resource"),
        ([CHATGPT_REDIRECT], CHATGPT_REDIRECT, {"resource": "http://localhost:8091/mcp"}, "mcp_resource"),
        ([CHATGPT_REDIRECT], CHATGPT_REDIRECT, {"resource": "http://localhost:8091"}, "mcp_url"),
        ([CLAUDE_REDIRECT], CLAUDE_REDIRECT, {"resource": "http://localhost:8090/api/v1"}, "api_resource"),
        (["http://127.0.0.1/callback"], "http://127.0.0.1:49152/callback", {}, "mcp_resource"),
        (["http://localhost:3030/callback"], "http://localhost:5000/callback", {}, "mcp_resource"),
    ],
    ids=["claude", "redirect-omitted-single", "chatgpt-mcp-endpoint", "chatgpt-mcp-service", "api-resource",
         "loopback-any-port", "localhost-other-port"],
)
async def test_valid_requests_go_to_the_consent_page(
    api: httpx.AsyncClient, ctx: AppContext, registered: list[str], asked: str | None, extra: dict[str, str],
    resource: str,
) -> None:
    client_id = await add_client(ctx, redirect_uris=registered)
    params = authorize_query(client_id, pkce().challenge, **extra)
    if asked:
        params["redirect_uri"] = asked
    response = await api.get("/oauth/authorize", params=params)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{ctx.settings.web_url}/oauth/consent?request_id=axar_")
    # Only the opaque id travels; none of the raw parameters.
    assert params["code_challenge"] not in location and "xyz" not in location
    async with ctx.db.session() as session:
        pending = await authorize.load_pending(session, ctx.settings, query_of(location)["request_id"])
    assert pending.redirect_uri == (asked or registered[0])
    assert pending.resource == getattr(ctx.settings, resource)
    assert pending.scopes == list(DEFAULT_SCOPES)


async def test_prompt_is_carried_to_the_consent_page(ctx: AppContext) -> None:
    client_id = await add_client(ctx)
    request_id = await start_request(ctx, client_id, pkce().challenge, prompt="consent bogus")
    async with ctx.db.session() as session:
        assert (await authorize.load_pending(session, ctx.settings, request_id)).prompt == "consent"


# --- POST /oauth/authorize (the seed's: a signed-in user's answer, with an API token) -----------


async def _pending(ctx: AppContext) -> str:
    return await start_request(ctx, await add_client(ctx), pkce().challenge)


async def _bearer(ctx: AppContext, account: TestUser, kind: str) -> dict[str, str]:
    tokens = {
        "none": None,
        "garbage": "axat_nope",
        "login": await login_token(ctx, account.id),
        "third-party-api": await make_token(ctx, account.id, ["profile:read"], client_id="someone"),
        "first-party-mcp": await make_token(ctx, account.id, ["profile:read"], client_id=FIRST_PARTY_CLIENT_ID,
                                            resource=ctx.settings.mcp_resource),
    }
    token = tokens[kind]
    return {"Authorization": f"Bearer {token}"} if token else {}


POST_ERRORS = [
    ("no-token", "none", {"decision": "allow"}, 401, "invalid_token"),
    ("garbage-token", "garbage", {"decision": "allow"}, 401, "invalid_token"),
    ("third-party-token", "third-party-api", {"decision": "allow"}, 401, "invalid_token"),
    ("mcp-audience-token", "first-party-mcp", {"decision": "allow"}, 401, "invalid_token"),
    ("missing-decision", "login", {}, 400, "invalid_request"),
    ("bad-decision", "login", {"decision": "maybe"}, 400, "invalid_request"),
    ("unknown-request", "login", {"decision": "allow", "request_id": "axar_unknown"}, 400, "invalid_request"),
]


@pytest.mark.parametrize(("bearer", "body", "status", "error"), [r[1:] for r in POST_ERRORS],
                         ids=[r[0] for r in POST_ERRORS])
async def test_post_authorize_errors(api: httpx.AsyncClient, ctx: AppContext, account: TestUser, bearer: str,
                                     body: dict[str, str], status: int, error: str) -> None:
    payload = {"request_id": await _pending(ctx), **body}
    response = await api.post("/oauth/authorize", json=payload, headers=await _bearer(ctx, account, bearer))
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
async def test_post_authorize_allow_and_deny(api: httpx.AsyncClient, ctx: AppContext, account: TestUser,
                                             as_form: bool) -> None:
    headers = await _bearer(ctx, account, "login")
    answers = {}
    for decision in ("allow", "deny"):
        body = {"request_id": await _pending(ctx), "decision": decision}
        sent = {"data": body} if as_form else {"json": body}
        response = await api.post("/oauth/authorize", headers=headers, **sent)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        answers[decision] = query_of(response.json()["redirect_url"])
    assert answers["allow"]["code"].startswith("axac_")
    assert answers["allow"]["state"] == answers["deny"]["state"] == "xyz"
    assert answers["allow"]["iss"] == answers["deny"]["iss"] == ctx.settings.issuer
    assert answers["deny"]["error"] == "access_denied" and "code" not in answers["deny"]
