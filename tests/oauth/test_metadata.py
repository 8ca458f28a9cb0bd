"""RFC 8414 metadata: exact issuer, every endpoint from settings, what Claude and ChatGPT look for."""

from __future__ import annotations

import httpx
from mcp.shared.auth import OAuthMetadata

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.settings import SCOPES
from tests.oauth.helpers import with_settings


async def test_metadata_document(api: httpx.AsyncClient, ctx: AppContext) -> None:
    response = await api.get("/.well-known/oauth-authorization-server", headers={"Host": "evil.example"})
    assert response.status_code == 200
    doc = response.json()
    base = ctx.settings.public_url
    assert doc["issuer"] == ctx.settings.issuer == base and not base.endswith("/")
    assert doc["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert doc["token_endpoint"] == f"{base}/oauth/token"
    assert doc["registration_endpoint"] == f"{base}/oauth/register"
    assert doc["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert doc["introspection_endpoint"] == f"{base}/oauth/introspect"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert set(doc["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert "none" in doc["token_endpoint_auth_methods_supported"]
    assert doc["client_id_metadata_document_supported"] is True
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["scopes_supported"] == list(SCOPES)
    assert response.headers["access-control-allow-origin"] == "*"
    # The SDK client parses it with this model and compares the issuer as a plain string.
    assert str(OAuthMetadata.model_validate(doc).issuer) == base


async def test_metadata_under_the_path_inserted_form(ctx: AppContext) -> None:
    issuer = "https://axiom.example.com/auth"
    app = create_auth_app(with_settings(ctx, public_url=issuer))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        inserted = await client.get("/.well-known/oauth-authorization-server/auth")
        root = await client.get("/.well-known/oauth-authorization-server")
    assert inserted.status_code == root.status_code == 200
    assert inserted.json()["issuer"] == issuer
    assert inserted.json()["token_endpoint"] == f"{issuer}/oauth/token"


async def test_oauth_errors_are_rfc6749_json_not_the_api_shape(api: httpx.AsyncClient) -> None:
    response = await api.get("/oauth/token")
    assert response.status_code == 405
    assert response.json() == {"error": "invalid_request", "error_description": "Use OPTIONS, POST on this endpoint."}
    preflight = await api.options("/oauth/token", headers={"Origin": "https://x.example"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
