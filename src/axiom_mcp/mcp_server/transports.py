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
- As in the original, a plain ``GET /mcp`` without ``Mcp-Session-Id`` (and not a 2026-era request)
  opens that same legacy SSE stream; with a session id it is the streamable standalone stream.

Sessions of both kinds are bound by the SDK to the principal of the token that created them
(client, issuer, user; see ``token_verifier.access_token``): a request for a session with any
other token, or none, is answered as if the session did not exist (404). In particular the
legacy ``/messages`` endpoint requires a token of the user and app that opened the stream; the
original trusted the session id alone.

Each user holds at most ``mcp_sessions_per_user`` sessions and legacy streams (``user_sessions``):
the requests that open, use and close them pass through that table on their way to the SDK.

Host/Origin checks are done once in ``transport_security`` before authentication, so the SDK's
copies are switched off here (it still checks the Content-Type of POSTs).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.types import Message, Receive, Scope, Send

from axiom_mcp.mcp_server.auth import McpUser
from axiom_mcp.mcp_server.stateless_calls import StatelessToolCalls
from axiom_mcp.mcp_server.tool_calls import AxiomTool
from axiom_mcp.mcp_server.user_sessions import UserSessions, refuse

MESSAGES_PATH = "/messages"
_SESSION_HEADER = MCP_SESSION_ID_HEADER.encode()
_VERSION_HEADER = MCP_PROTOCOL_VERSION_HEADER.encode()
_MODERN = frozenset(v.encode() for v in MODERN_PROTOCOL_VERSIONS)
_HANDSHAKE = frozenset(v.encode() for v in HANDSHAKE_PROTOCOL_VERSIONS)
_STREAM_SESSION = re.compile(rb"session_id=([0-9a-f]+)")
_CHECKED_UPSTREAM = TransportSecuritySettings(enable_dns_rebinding_protection=False)


class Transports:
    """ASGI endpoints of the MCP transports over one ``MCPServer``. ``manager.run()`` must be running."""

    def __init__(self, server: MCPServer, tools: list[AxiomTool], *, sessions_per_user: int,
                 lean_tool_calls: bool = True) -> None:
        # The SDK's transports drive the low-level server; MCPServer builds them the same way in
        # its own sse_app()/streamable_http_app(), which we cannot use as they stand (one path
        # each, the SDK's auth middleware without scope challenges).
        self.lowlevel = server._lowlevel_server  # noqa: SLF001
        self.init_options = self.lowlevel.create_initialization_options()
        self.manager = StreamableHTTPSessionManager(
            app=self.lowlevel, json_response=True, security_settings=_CHECKED_UPSTREAM
        )
        self.sse = SseServerTransport(MESSAGES_PATH, security_settings=_CHECKED_UPSTREAM)
        self.sessions = UserSessions(sessions_per_user, self.manager.session_idle_timeout)
        # lean_tool_calls=False leaves every request to the SDK: the tests compare the two paths' answers.
        self.stateless_calls = StatelessToolCalls(
            tools, self.lowlevel.server_info_stamp, self.streamable, TransportSecurityMiddleware(_CHECKED_UPSTREAM)
        ) if lean_tool_calls else None

    async def streamable(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        session_id = _header(scope, _SESSION_HEADER)
        if not isinstance(user, McpUser):  # BearerAuth always sets it; the SDK refuses what it must
            await self.manager.handle_request(scope, receive, send)
        elif session_id is not None:
            await self._session_request(scope, receive, send, user, session_id.decode("latin-1"))
        elif scope["method"] == "POST" and _header(scope, _VERSION_HEADER) in (None, *_HANDSHAKE):
            await self._opening_request(scope, receive, send, user)
        else:  # a 2026-era request (no session) or one the SDK refuses without opening anything
            await self.manager.handle_request(scope, receive, send)

    async def _session_request(self, scope: Scope, receive: Receive, send: Send, user: McpUser,
                               session_id: str) -> None:
        slot = self.sessions.find(("session", session_id), _owner(user))
        answer = _Answer(send)
        with self.sessions.using(slot):
            await self.manager.handle_request(scope, receive, answer)
        if slot is not None and (scope["method"] == "DELETE" or answer.status == 404):
            self.sessions.forget(slot)  # closed by its client, or gone (expired, crashed)

    async def _opening_request(self, scope: Scope, receive: Receive, send: Send, user: McpUser) -> None:
        """A POST without a session: an ``initialize`` opens one if the user has room (or makes it)."""
        slot = await self.sessions.admit(_owner(user))
        if slot is None:
            await refuse(send, self.sessions.per_user)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                session_id = dict(message.get("headers", [])).get(_SESSION_HEADER)
                if session_id is not None:  # the SDK keeps a session whose opening answer succeeded
                    key = session_id.decode("latin-1")
                    self.sessions.opened(slot, ("session", key), lambda: self._close_session(key, user), expires=True)
            await send(message)

        try:
            await self.manager.handle_request(scope, receive, watch)
        finally:
            self.sessions.settled(slot)

    async def _close_session(self, session_id: str, owner: McpUser) -> None:
        """End a session as its client would: a DELETE with the credential that opened it."""
        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "DELETE",
            "scheme": "http", "path": "/mcp", "raw_path": b"/mcp", "query_string": b"", "root_path": "",
            "headers": [(_SESSION_HEADER, session_id.encode("latin-1"))], "client": None, "server": None,
            "user": owner,
        }

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(_message: Message) -> None:
            return None

        await self.manager.handle_request(scope, receive, discard)

    async def sse_stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``GET /sse``: one legacy SSE connection, served until the client goes away (or the user
        opens one session more than they may hold and this is their longest-idle one)."""
        user = scope.get("user")
        slot = await self.sessions.admit(_owner(user)) if isinstance(user, McpUser) else None
        if isinstance(user, McpUser) and slot is None:
            await refuse(send, self.sessions.per_user)
            return
        stream = _Closable(receive, send)

        async def watch(message: Message) -> None:
            if slot is not None and slot.key is None and message["type"] == "http.response.body":
                found = _STREAM_SESSION.search(message.get("body", b""))
                if found:  # the endpoint event, naming /messages?session_id=...
                    self.sessions.opened(slot, ("stream", found.group(1).decode()), stream.close, expires=False)
                    self.sessions.settled(slot)  # idle between messages from now on
            await stream.send(message)

        try:
            async with self.sse.connect_sse(scope, stream.receive, watch) as (read_stream, write_stream):
                await self.lowlevel.run(read_stream, write_stream, self.init_options)
            await stream.finish()
        finally:
            if slot is not None:
                self.sessions.forget(slot)

    async def messages(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /messages?session_id=...``: a client message for a legacy SSE session."""
        user = scope.get("user")
        session_id = parse_qs(scope["query_string"].decode("latin-1")).get("session_id", [""])[0]
        slot = self.sessions.find(("stream", session_id), _owner(user)) if isinstance(user, McpUser) else None
        with self.sessions.using(slot):
            await self.sse.handle_post_message(scope, receive, send)

    async def mcp(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``/mcp``: streamable HTTP, except the original's plain GET, which opens legacy SSE."""
        method = scope["method"]
        if method == "GET" and _opens_legacy_sse(scope):
            await self.sse_stream(scope, receive, send)
        elif method == "POST" and self.stateless_calls is not None and _is_modern(scope):
            await self.stateless_calls(scope, receive, send)  # tools/call there, the rest to the SDK
        else:
            await self.streamable(scope, receive, send)


class _Closable:
    """A streaming response the server can end: ``close()`` tells the app its client went away (so
    the SDK winds the stream down as it does on a real disconnect), and ``finish()`` then ends the
    response properly for the client that is in fact still there."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._closing = anyio.Event()
        self._open = False

    async def close(self) -> None:
        self._closing.set()

    async def receive(self) -> Message:
        received: list[Message] = [{"type": "http.disconnect"}]
        async with anyio.create_task_group() as tasks:

            async def from_client() -> None:
                received[0] = await self._receive()
                tasks.cancel_scope.cancel()

            async def from_server() -> None:
                await self._closing.wait()
                tasks.cancel_scope.cancel()

            tasks.start_soon(from_client)
            tasks.start_soon(from_server)
        return received[0]

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._open = True
        elif message["type"] == "http.response.body":
            self._open = bool(message.get("more_body"))
        await self._send(message)

    async def finish(self) -> None:
        if self._open and self._closing.is_set():
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})


class _Answer:
    """A ``send`` that remembers the response's status."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status: int | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self.send(message)


def _owner(user: McpUser) -> tuple[str, str]:
    return user.info.user_id, user.info.client_id


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


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

