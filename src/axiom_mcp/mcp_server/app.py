"""The MCP service (port 8091): ``create_mcp_app(ctx)`` returns its ASGI app.

Routes:

=========================================================  ==========================================
``/mcp``  GET POST DELETE                                  streamable HTTP (both eras); plain GET:
                                                           legacy SSE (``transports``)
``/sse``  GET, ``/messages`` POST                          legacy HTTP+SSE transport
``/.well-known/oauth-protected-resource[/mcp]``  GET       RFC 9728 metadata (``metadata``)
``/.well-known/oauth-authorization-server``  GET           the original's mirror of the AS metadata
``/health``  GET                                           database state (``health``)
``/``  GET                                                 what this service is, where to go (``service_root``)
=========================================================  ==========================================

The three MCP endpoints pass, outermost first, the Host/Origin check (``transport_security``),
CORS for the allowed origins only (browser requests, those with an ``Origin``), and bearer
authentication (``auth``). The discovery documents
are public, with CORS open to any origin (browser-based clients read them before they have a
token, from wherever they run); ``/health`` has no CORS at all.

The app's lifespan runs the SDK's session manager. A parent app that mounts this one must run
it too (Starlette does not run a mounted app's lifespan): ``app.router.lifespan_context(app)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, request_response
from starlette.types import ASGIApp

from axiom_mcp import __version__
from axiom_mcp.context import AppContext
from axiom_mcp.mcp_server.auth import BearerAuth, Challenges
from axiom_mcp.mcp_server.file_resources import AxiomServer
from axiom_mcp.mcp_server.health import health_endpoint
from axiom_mcp.mcp_server.metadata import AS_METADATA_PATH, PRM_PATH, metadata_endpoints
from axiom_mcp.mcp_server.token_verifier import McpTokenVerifier
from axiom_mcp.mcp_server.tool_calls import AxiomTool
from axiom_mcp.mcp_server.tools import build_tools
from axiom_mcp.mcp_server.transport_security import HostOriginGuard, HostOriginPolicy
from axiom_mcp.mcp_server.transports import MESSAGES_PATH, Transports
from axiom_mcp.service_root import root_endpoint

INSTRUCTIONS = (
    "Axiom holds one person's records: items (notes or documents with text and tags), clients "
    "(customers or contacts, each allowed to see items with certain tags) and tags. These tools "
    "read and change the records of the person who connected this app, and nobody else's. List "
    "tools are paginated and take a search text; ids come from them. Creating and changing "
    "records needs the write scopes the person granted. Files attached to items are resources "
    "(axiom://items/{item_id}/files/{file_id}); get_user_item lists an item's files."
)

# What browser-based MCP clients send and need to read (MCP transports; RFC 6750 challenges).
_CORS_REQUEST_HEADERS = [
    "Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "MCP-Protocol-Version",
    "Mcp-Method", "Mcp-Name", "Last-Event-ID",
]
_CORS_RESPONSE_HEADERS = ["Mcp-Session-Id", "MCP-Protocol-Version", "WWW-Authenticate"]


def build_mcp_server(ctx: AppContext) -> tuple[AxiomServer, list[AxiomTool], dict[str, str]]:
    """The SDK server with every tool (listed per connection's view) and the caller's files as
    resources, the tools, and the scope each tool needs."""
    tools, scopes = build_tools(ctx)
    server = AxiomServer(
        ctx,
        tools,
        name="axiom",
        title="Axiom",
        version=__version__,
        instructions=INSTRUCTIONS,
        subscriptions=False,  # nothing to subscribe to; keeps `subscriptions/listen` unserved
        log_level=ctx.settings.log_level.upper(),  # type: ignore[arg-type]
    )
    return server, tools, scopes


def create_mcp_app(ctx: AppContext, *, lean_tool_calls: bool = True) -> Starlette:
    """The MCP service. ``lean_tool_calls=False`` serves 2026-era ``tools/call`` through the SDK
    too (``stateless_calls`` is what it skips; the tests compare the two)."""
    settings = ctx.settings
    server, tools, tool_scopes = build_mcp_server(ctx)
    transports = Transports(server, tools, sessions_per_user=settings.mcp_sessions_per_user,
                            lean_tool_calls=lean_tool_calls)
    verifier = McpTokenVerifier(ctx.tokens, settings)
    challenges = Challenges(settings)
    policy = HostOriginPolicy.from_settings(settings)

    def protected(endpoint: ASGIApp, methods: list[str], scopes: dict[str, str] | None = None) -> ASGIApp:
        authenticated = BearerAuth(endpoint, verifier, challenges, scopes)
        cors = CORSMiddleware(
            authenticated,
            allow_origins=sorted(policy.origins),
            allow_methods=methods,
            allow_headers=_CORS_REQUEST_HEADERS,
            expose_headers=_CORS_RESPONSE_HEADERS,
            max_age=600,
        )
        return HostOriginGuard(authenticated, policy, browser_app=cors)

    def public(handler: Any) -> ASGIApp:
        return CORSMiddleware(request_response(handler), allow_origins=["*"], allow_methods=["GET"])

    protected_resource, authorization_server = metadata_endpoints(settings)
    mcp_methods = ["GET", "POST", "DELETE"]
    routes = [
        Route("/mcp", protected(transports.mcp, mcp_methods, tool_scopes), methods=[*mcp_methods, "OPTIONS"]),
        Route("/sse", protected(transports.sse_stream, ["GET"]), methods=["GET", "OPTIONS"]),
        Route(MESSAGES_PATH, protected(transports.messages, ["POST"]), methods=["POST", "OPTIONS"]),
        Route(PRM_PATH, public(protected_resource), methods=["GET", "OPTIONS"]),
        Route(f"{PRM_PATH}/mcp", public(protected_resource), methods=["GET", "OPTIONS"]),
        Route(AS_METADATA_PATH, public(authorization_server), methods=["GET", "OPTIONS"]),
        Route("/health", health_endpoint(ctx), methods=["GET"]),
        Route("/", root_endpoint(ctx.settings, "mcp"), methods=["GET"]),
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with transports.manager.run():
            yield

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.mcp_server = server
    app.state.transports = transports
    return app
