"""``GET /health`` reports whether the database answers."""

from __future__ import annotations

from pathlib import Path

import httpx

from axiom_mcp.context import AppContext
from axiom_mcp.mcp_server.app import create_mcp_app
from tests.conftest import make_settings
from tests.mcp_server.conftest import McpService
from tests.support.servers import free_port


async def test_health_reports_the_database_up(mcp: McpService, http: httpx.AsyncClient) -> None:
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() | {"version": "-"} == {"status": "ok", "service": "mcp", "version": "-", "database": "ok"}


async def test_health_reports_an_unreachable_database_as_503(tmp_path: Path) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/absent"
    ctx = AppContext.from_settings(make_settings(nowhere, tmp_path))
    try:
        transport = httpx.ASGITransport(app=create_mcp_app(ctx))
        async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.mcp_url) as client:
            response = await client.get("/health")
    finally:
        await ctx.close()
    assert response.status_code == 503
    assert (response.json()["status"], response.json()["database"]) == ("unavailable", "unreachable")
