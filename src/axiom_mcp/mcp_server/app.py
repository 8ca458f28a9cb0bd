"""MCP app factory (placeholder until the MCP issue lands)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from axiom_mcp.context import AppContext


def create_mcp_app(ctx: AppContext) -> Starlette:
    async def home(_request: object) -> PlainTextResponse:
        return PlainTextResponse("Axiom MCP server: not built yet")

    app = Starlette(routes=[Route("/", home)])
    app.state.ctx = ctx
    return app
