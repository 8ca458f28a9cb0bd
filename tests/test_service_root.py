"""``GET /`` on the auth and MCP ports tells a person where to go, and a program the same as JSON."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import ASGIApp

from axiom_mcp.app import create_auth_app, create_mcp_app
from axiom_mcp.context import AppContext

FACTORIES = {"auth": create_auth_app, "mcp": create_mcp_app}


async def _get_root(app: ASGIApp, base_url: str, accept: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        return await client.get("/", headers={"accept": accept})


@pytest.mark.parametrize("service", ["auth", "mcp"])
async def test_a_browser_gets_a_page_that_points_at_the_web_app_and_the_mcp_url(ctx: AppContext, service: str) -> None:
    settings = ctx.settings
    response = await _get_root(FACTORIES[service](ctx), settings.public_url, "text/html,application/xhtml+xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f'href="{settings.web_url}"' in response.text
    assert settings.mcp_resource in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "<script" not in response.text


@pytest.mark.parametrize("service", ["auth", "mcp"])
async def test_a_program_gets_the_same_facts_as_json(ctx: AppContext, service: str) -> None:
    settings = ctx.settings
    response = await _get_root(FACTORIES[service](ctx), settings.public_url, "application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == f"axiom-{service}"
    assert body["web_app"] == settings.web_url
    assert body["mcp_url"] == settings.mcp_resource
    assert body["authorization_server_metadata"] == f"{settings.issuer}/.well-known/oauth-authorization-server"
