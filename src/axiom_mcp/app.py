"""App factories: each takes the shared context and returns an ASGI app. Nothing happens at import."""

from __future__ import annotations

from starlette.types import ASGIApp

from axiom_mcp.context import AppContext


def create_auth_app(ctx: AppContext) -> ASGIApp:
    """Auth + API service (the original's PocketBase, port 8090)."""
    from axiom_mcp.auth_service.app import create_api_app

    return create_api_app(ctx)


def create_web_app(ctx: AppContext) -> ASGIApp:
    """Web app (the original's Nuxt app, port 3000)."""
    from axiom_mcp.web.app import create_web_app as build

    return build(ctx)


def create_mcp_app(ctx: AppContext) -> ASGIApp:
    """MCP server (port 8091)."""
    from axiom_mcp.mcp_server.app import create_mcp_app as build

    return build(ctx)


def create_single_origin_app(ctx: AppContext) -> ASGIApp:
    """All three services under one port and one public URL (``--single-origin``), routed by path."""
    from axiom_mcp.single_origin import SingleOriginApp

    return SingleOriginApp(auth=create_auth_app(ctx), web=create_web_app(ctx), mcp=create_mcp_app(ctx))
