"""The three ways clients reach the tools, all served by the SDK, all behind the same auth.

- Streamable HTTP at ``/mcp`` (MCP basic/transports): the SDK's session manager serves both
  protocol eras on one endpoint, except a 2026-era ``tools/call``, which ``stateless_calls``
  serves on a lean path after the SDK's own checks. A request whose ``MCP-Protocol-Version`` header names a
  2026-07-28-era version is a self-contained POST (no ``initialize``, no session, any instance
  can answer it); anything else is the 2025-11-25 era: ``initialize`` opens a session
  (``Mcp-Session-Id``) that lives in this process. Responses are JSON, not per-request SSE
  streams: our tools send no progress or log notifications, and JSON is the leaner path.
- The legacy HTTP+SSE transport (2024-11-05): ``GET /sse`` opens the event stream, whose first
  ``endpoint`` event names ``/messages?session_id=...`` for the client's POSTs.
- As in the seed, a plain ``GET /mcp`` without ``Mcp-Session-Id`` (and not a 2026-era request)
  opens that same legacy SSE stream; with a session id it is the streamable standalone stream.

Sessions of both kinds are bound by the SDK to the principal of the token that created them
(client, issuer, user; see ``token_verifier.access_token``): a request for a session with any
other token, or none, is answered as if the session did not exist (404). In particular the
legacy ``/messages`` endpoint requires a token of the user and app that opened the stream; the
seed trusted the session id alone.

Host/Origin checks are done once in ``transport_security`` before authentication, so the SDK's
copies are switched off here (it still checks the Content-Type of POSTs).
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.types import Receive, Scope, Send

from axiom_mcp.mcp_server.stateless_calls import StatelessToolCalls
from axiom_mcp.mcp_server.tools import AxiomTool

MESSAGES_PATH = "/messages"
_SESSION_HEADER = MCP_SESSION_ID_HEADER.encode()
_VERSION_HEADER = MCP_PROTOCOL_VERSION_HEADER.encode()
_MODERN = frozenset(v.encode() for v in MODERN_PROTOCOL_VERSIONS)
_CHECKED_UPSTREAM = TransportSecuritySettings(enable_dns_rebinding_protection=False)


class Transports:
    """ASGI endpoints of the MCP transports over one ``MCPServer``. ``manager.run()`` must be running."""

    def __init__(self, server: MCPServer, tools: list[AxiomTool], *, lean_tool_calls: bool = True) -> None:
        # The SDK's transports drive the low-level server; MCPServer builds them the same way in
        # its own sse_app()/streamable_http_app(), which we cannot use as they stand (one path
        # each, the SDK's auth middleware without scope challenges).
        self.lowlevel = server._lowlevel_server  # noqa: SLF001
        self.init_options = self.lowlevel.create_initialization_options()
        self.manager = StreamableHTTPSessionManager(
            app=self.lowlevel, json_response=True, security_settings=_CHECKED_UPSTREAM
        )
        self.sse = SseServerTransport(MESSAGES_PATH, security_settings=_CHECKED_UPSTREAM)
        # lean_tool_calls=False leaves every request to the SDK: the tests compare the two paths' answers.
        self.stateless_calls = StatelessToolCalls(
            tools, self.lowlevel.server_info_stamp, self.streamable, TransportSecurityMiddleware(_CHECKED_UPSTREAM)
        ) if lean_tool_calls else None

    async def streamable(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.manager.handle_request(scope, receive, send)

    async def sse_stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``GET /sse``: one legacy SSE connection, served until the client goes away."""
        async with self.sse.connect_sse(scope, receive, send) as (read_stream, write_stream):
            await self.lowlevel.run(read_stream, write_stream, self.init_options)

    async def messages(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /messages?session_id=...``: a client message for a legacy SSE session."""
        await self.sse.handle_post_message(scope, receive, send)

    async def mcp(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``/mcp``: streamable HTTP, except the seed's plain GET, which opens legacy SSE."""
        method = scope["method"]
        if method == "GET" and _opens_legacy_sse(scope):
            await self.sse_stream(scope, receive, send)
        elif method == "POST" and self.stateless_calls is not None and _is_modern(scope):
            await self.stateless_calls(scope, receive, send)  # tools/call there, the rest to the SDK
        else:
            await self.streamable(scope, receive, send)


def _opens_legacy_sse(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == _SESSION_HEADER:
            return False
        if key == _VERSION_HEADER and value in _MODERN:
            return False
    return True


def _is_modern(scope: Scope) -> bool:
    """Whether the request names a 2026-era protocol version (a self-contained request, no session)."""
    return any(key == _VERSION_HEADER and value in _MODERN for key, value in scope["headers"])

