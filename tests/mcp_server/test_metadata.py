"""RFC 9728 metadata and the AS metadata mirror: public, exact, and readable by the SDK's models."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata

from axiom_mcp.mcp_server.metadata import resource_metadata_url
from axiom_mcp.oauth.metadata import authorization_server_metadata
from axiom_mcp.settings import SCOPES
from tests.conftest import make_settings
from tests.mcp_server.conftest import McpService


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"],
                         ids=["path-form", "root-form"])
async def test_protected_resource_metadata_names_this_resource_and_its_issuer(
    mcp: McpService, http: httpx.AsyncClient, path: str
) -> None:
    response = await http.get(path)  # no token
    assert response.status_code == 200
    document = response.json()
    assert document == {
        "resource": f"{mcp.url}/mcp",
        "authorization_servers": [mcp.ctx.settings.issuer],
        "scopes_supported": list(SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": "Axiom MCP",
    }
    parsed = ProtectedResourceMetadata.model_validate(document)  # as the SDK client reads it
    assert str(parsed.resource) == f"{mcp.url}/mcp"
    assert [str(s) for s in parsed.authorization_servers] == [mcp.ctx.settings.issuer]


async def test_authorization_server_metadata_is_mirrored(mcp: McpService, http: httpx.AsyncClient) -> None:
    response = await http.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.json() == authorization_server_metadata(mcp.ctx.settings)  # the auth service's document
    metadata = OAuthMetadata.model_validate(response.json())
    assert str(metadata.issuer) == mcp.ctx.settings.issuer == response.json()["issuer"]
    assert str(metadata.token_endpoint) == f"{mcp.ctx.settings.issuer}/oauth/token"
    assert metadata.code_challenge_methods_supported == ["S256"]


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"])
async def test_browser_clients_on_any_origin_may_read_the_documents(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path, headers={"Origin": "https://inspector.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = await http.options(path, headers={"Origin": "https://inspector.example",
                                                  "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    assert (await http.post(path)).status_code == 405


@pytest.mark.parametrize(
    ("mcp_url", "expected"),
    [
        ("https://mcp.example.com", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"),
        ("http://127.0.0.1:8091", "http://127.0.0.1:8091/.well-known/oauth-protected-resource/mcp"),
        ("https://example.com/tools", "https://example.com/.well-known/oauth-protected-resource/tools/mcp"),
    ],
    ids=["host", "loopback-port", "under-a-path"],
)
def test_the_metadata_url_inserts_the_well_known_segment_before_the_path(
    tmp_path: Path, mcp_url: str, expected: str
) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/x.db", tmp_path, mcp_url=mcp_url)
    assert resource_metadata_url(settings) == expected
