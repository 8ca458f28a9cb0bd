"""Dynamic Client Registration (RFC 7591): one row per rule, JSON errors, the rate limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.db.tables import OAuthClient
from axiom_mcp.security.secrets import hash_secret
from tests.oauth.helpers import CHATGPT_REDIRECT, CLAUDE_REDIRECT, with_settings

CLAUDE_REGISTRATION = {
    "client_name": "Claude",
    "redirect_uris": [CLAUDE_REDIRECT, "https://claude.com/api/mcp/auth_callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": "profile:read items:read offline_access claudeai",
}
CHATGPT_REGISTRATION = {
    "client_name": "ChatGPT",
    "redirect_uris": [CHATGPT_REDIRECT, "https://chatgpt.com/connector/oauth/abc123"],
    "token_endpoint_auth_method": "client_secret_post",
}


async def test_claude_registers_a_public_client(api: httpx.AsyncClient, ctx: AppContext) -> None:
    response = await api.post("/oauth/register", json=CLAUDE_REGISTRATION)
    assert response.status_code == 201, response.text
    info = response.json()
    assert info["redirect_uris"] == CLAUDE_REGISTRATION["redirect_uris"]
    assert info["token_endpoint_auth_method"] == "none" and "client_secret" not in info
    assert info["scope"] == "profile:read items:read offline_access"  # unknown values dropped (RFC 7591 2)
    assert response.headers["cache-control"] == "no-store"
    async with ctx.db.session() as session:
        row = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == info["client_id"]))
    assert row is not None and row.source == "dcr" and row.client_secret_hash is None
    assert row.registered_from == "127.0.0.1"


async def test_chatgpt_registers_a_confidential_client(api: httpx.AsyncClient, ctx: AppContext) -> None:
    response = await api.post("/oauth/register", json=CHATGPT_REGISTRATION)
    assert response.status_code == 201, response.text
    info = response.json()
    assert info["client_secret"].startswith("axcs_") and info["client_secret_expires_at"] == 0
    assert info["grant_types"] == ["authorization_code", "refresh_token"]  # substituted default
    async with ctx.db.session() as session:
        row = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == info["client_id"]))
    assert row is not None and row.client_secret_hash == hash_secret(info["client_secret"])
    assert info["client_secret"] not in str(row.client_metadata)


async def test_omitted_auth_method_means_client_secret_basic(api: httpx.AsyncClient) -> None:
    response = await api.post("/oauth/register", json={"redirect_uris": ["http://127.0.0.1:9999/cb"]})
    assert response.status_code == 201
    assert response.json()["token_endpoint_auth_method"] == "client_secret_basic"
    assert "client_secret" in response.json()


BAD_REGISTRATIONS: list[tuple[str, Any, str]] = [
    ("no-redirect-uris", {"client_name": "x"}, "invalid_redirect_uri"),
    ("empty-redirect-uris", {"redirect_uris": []}, "invalid_redirect_uri"),
    ("redirect-not-list", {"redirect_uris": CLAUDE_REDIRECT}, "invalid_redirect_uri"),
    ("javascript-redirect", {"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
    ("http-remote-redirect", {"redirect_uris": ["http://example.com/cb"]}, "invalid_redirect_uri"),
    ("fragment-redirect", {"redirect_uris": ["https://example.com/cb#x"]}, "invalid_redirect_uri"),
    ("too-many-redirects", {"redirect_uris": [f"https://e.com/{i}" for i in range(11)]}, "invalid_redirect_uri"),
    ("not-an-object", [CLAUDE_REDIRECT], "invalid_client_metadata"),
    ("auth-method", {"redirect_uris": [CLAUDE_REDIRECT], "token_endpoint_auth_method": "private_key_jwt"},
     "invalid_client_metadata"),
    ("implicit-grant", {"redirect_uris": [CLAUDE_REDIRECT], "grant_types": ["implicit"]}, "invalid_client_metadata"),
    ("client-credentials", {"redirect_uris": [CLAUDE_REDIRECT],
                            "grant_types": ["authorization_code", "client_credentials"]}, "invalid_client_metadata"),
    ("refresh-only", {"redirect_uris": [CLAUDE_REDIRECT], "grant_types": ["refresh_token"]},
     "invalid_client_metadata"),
    ("token-response", {"redirect_uris": [CLAUDE_REDIRECT], "response_types": ["token"]}, "invalid_client_metadata"),
    ("long-name", {"redirect_uris": [CLAUDE_REDIRECT], "client_name": "x" * 256}, "invalid_client_metadata"),
    ("name-not-string", {"redirect_uris": [CLAUDE_REDIRECT], "client_name": 7}, "invalid_client_metadata"),
    ("javascript-client-uri", {"redirect_uris": [CLAUDE_REDIRECT], "client_uri": "javascript:alert(1)"},
     "invalid_client_metadata"),
    ("scope-not-string", {"redirect_uris": [CLAUDE_REDIRECT], "scope": ["items:read"]}, "invalid_client_metadata"),
    ("too-large", {"redirect_uris": [CLAUDE_REDIRECT], "software_statement": "x" * 20_000},
     "invalid_client_metadata"),
]


@pytest.mark.parametrize(("body", "error"), [row[1:] for row in BAD_REGISTRATIONS], ids=[r[0] for r in BAD_REGISTRATIONS])
async def test_refused_registrations(api: httpx.AsyncClient, body: Any, error: str) -> None:
    response = await api.post("/oauth/register", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert response.headers["content-type"] == "application/json"


async def test_not_json(api: httpx.AsyncClient) -> None:
    response = await api.post("/oauth/register", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client_metadata"


async def test_registration_is_rate_limited_per_address(ctx: AppContext) -> None:
    app = create_auth_app(with_settings(ctx, registration_rate_limit=3))
    body = {"redirect_uris": [CLAUDE_REDIRECT], "token_endpoint_auth_method": "none"}
    one = httpx.ASGITransport(app=app, client=("203.0.113.1", 1000))
    two = httpx.ASGITransport(app=app, client=("203.0.113.2", 1000))
    async with httpx.AsyncClient(transport=one, base_url="http://test") as first, \
            httpx.AsyncClient(transport=two, base_url="http://test") as second:
        statuses = [(await first.post("/oauth/register", json=body)).status_code for _ in range(3)]
        limited = await first.post("/oauth/register", json=body)
        other = await second.post("/oauth/register", json=body)
    assert statuses == [201, 201, 201]
    assert limited.status_code == 429 and limited.json()["error"] == "temporarily_unavailable"
    assert int(limited.headers["retry-after"]) >= 1
    assert other.status_code == 201
