"""A real MCP server on loopback per database kind, and ways to reach it with the SDK's clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.mcp_server.app import create_mcp_app
from tests.conftest import make_settings
from tests.support.factories import TestUser, make_token, make_user
from tests.support.servers import free_port, running

BROWSER_CLIENT_ORIGIN = "http://localhost:6274"
"""An extra allowed origin (a browser-based client such as the MCP Inspector)."""

TOKEN_CACHE_SECONDS = 1.0


@dataclass
class McpService:
    url: str
    ctx: AppContext
    """The server's own context: its settings (mcp_url is ``url``) and its token cache."""

    async def user(self, name: str = "Ann") -> TestUser:
        return await make_user(self.ctx, name=name)

    async def token(self, user_id: str, scopes: list[str] | None = None, *, resource: str | None = None,
                    client_id: str = "test") -> str:
        """A token for this MCP server (its audience) unless ``resource`` says otherwise."""
        from axiom_mcp.settings import SCOPES

        return await make_token(
            self.ctx, user_id, list(SCOPES) if scopes is None else scopes,
            resource=resource or self.ctx.settings.mcp_resource, client_id=client_id,
        )


@pytest.fixture(scope="session")
async def mcp(ctx: AppContext) -> AsyncIterator[McpService]:
    """The MCP app on a free loopback port, sharing the ``ctx`` fixture's database."""
    port = free_port()
    settings = make_settings(
        ctx.settings.database_url,
        ctx.settings.data_dir,
        mcp_url=f"http://127.0.0.1:{port}",
        mcp_port=port,
        allowed_origins=[BROWSER_CLIENT_ORIGIN],
        token_cache_seconds=TOKEN_CACHE_SECONDS,
    )
    service_ctx = AppContext.from_settings(settings)
    try:
        async with running(create_mcp_app(service_ctx), port) as url:
            yield McpService(url=url, ctx=service_ctx)
    finally:
        await service_ctx.close()


@dataclass
class Member:
    user: TestUser
    token: str
    """A token for the MCP server with every scope."""


@pytest.fixture(scope="session")
async def member(mcp: McpService) -> Member:
    """A user shared by tests that only read or only fail (making users costs an argon2 hash)."""
    user = await mcp.user("Meg")
    return Member(user, await mcp.token(user.id))


@pytest.fixture
async def http(mcp: McpService) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for the server, for what the SDK client hides (statuses, headers)."""
    async with httpx.AsyncClient(base_url=mcp.url, timeout=10) as client:
        yield client
