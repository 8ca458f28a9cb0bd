"""Bearer authentication of the MCP endpoints, and the challenges clients act on.

Implements the resource-server half of MCP authorization (2025-11-25 and 2026-07-28):

- No bearer token: ``401`` with ``WWW-Authenticate: Bearer resource_metadata="...", scope="..."``
  (RFC 9728 section 5.1; RFC 6750 section 3: no error code when no credentials were sent).
- A token that is unknown, expired, revoked, or issued for another audience (RFC 8707):
  ``401`` with the same parameters plus ``error="invalid_token"``.
- A streamable-HTTP ``tools/call`` of a tool whose scope the token lacks: ``403`` with
  ``error="insufficient_scope", scope="<what the tool needs>"`` (RFC 6750 section 3.1, MCP
  "Scope Challenge Handling"), before the call runs. Step-up capable clients (the SDK's
  ``OAuthClientProvider``, per SEP-2350) re-authorize with that scope added and retry. The body is
  a JSON-RPC error for the call's id, so a client without step-up still gets a clear error for
  that one call while its session lives on. A 2026-07-28 request names its tool in the
  ``Mcp-Name`` header, which the SDK checks against the body before dispatch, so only
  2025-11-25 bodies are read here (``modern_tool_call``, ``tools_called``).
- On the legacy SSE transport (``/messages``) a missing scope is a tool error instead: legacy
  clients treat a failed POST as a broken connection (the SDK's SSE client stops sending),
  and none of them knows step-up. Every tool checks its scope itself as well (``tool_calls.py``),
  so the rule holds on every transport even if this layer is bypassed.

A verified request carries ``scope["user"]``: an ``McpUser`` (the SDK's ``AuthenticatedUser``,
whose principal the SDK binds sessions to) holding our ``TokenInfo``. The SDK's
``auth_context_var`` is set too, so its ``get_access_token()`` works inside handlers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.shared.inbound import MCP_METHOD_HEADER, MCP_NAME_HEADER, MCP_PROTOCOL_VERSION_HEADER, decode_header_value
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Receive, Scope, Send

from axiom_mcp.data.tokens import TokenInfo
from axiom_mcp.http_common.body import BodyTooLarge, buffer_body
from axiom_mcp.mcp_server.metadata import challenge_scope, resource_metadata_url
from axiom_mcp.mcp_server.token_verifier import McpTokenVerifier, access_token
from axiom_mcp.security.bearer import bearer_token as parse_bearer
from axiom_mcp.settings import Settings

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest request body read for scope inspection; the SDK's own limit (4 MiB) is the same."""

INSUFFICIENT_SCOPE_CODE = -32003
"""JSON-RPC error code of the 403 body (server-defined range; no MCP code exists for it)."""

_USER_CACHE_MAX = 10_000
_VERSION_HEADER = MCP_PROTOCOL_VERSION_HEADER.encode()
_METHOD_HEADER = MCP_METHOD_HEADER.encode()
_NAME_HEADER = MCP_NAME_HEADER.encode()
_MODERN_VERSIONS = frozenset(v.encode() for v in MODERN_PROTOCOL_VERSIONS)


class McpUser(AuthenticatedUser):
    """The caller of one request: the SDK's authenticated user plus what our token grants."""

    def __init__(self, info: TokenInfo, issuer: str) -> None:
        super().__init__(access_token(info, issuer))
        self.info = info


class Challenges:
    """``WWW-Authenticate`` values, built from settings once."""

    def __init__(self, settings: Settings) -> None:
        self.resource_metadata = resource_metadata_url(settings)
        self.scope = challenge_scope()

    def unauthorized(self, error: str | None = None, description: str | None = None) -> str:
        params = []
        if error:
            params.append(f'error="{error}"')
        if description:
            params.append(f'error_description="{description}"')
        params += [f'resource_metadata="{self.resource_metadata}"', f'scope="{self.scope}"']
        return "Bearer " + ", ".join(params)

    def insufficient_scope(self, scope: str, description: str) -> str:
        return (
            f'Bearer error="insufficient_scope", error_description="{description}", '
            f'resource_metadata="{self.resource_metadata}", scope="{scope}"'
        )


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 section 2.1), if any."""
    for key, value in scope["headers"]:
        if key == b"authorization":
            return parse_bearer(value.decode("latin-1"))
    return None


def modern_tool_call(scope: Scope) -> tuple[bool, str | None]:
    """Whether this is a 2026-07-28-era request, and if it is a ``tools/call``, the tool's name.

    That era names the method and the tool in ``Mcp-Method`` and ``Mcp-Name`` headers, which the
    SDK checks against the body (``HEADER_MISMATCH``) before anything runs, so they can be read
    here without parsing the body.
    """
    version = method = name = None
    for key, value in scope["headers"]:
        if key == _VERSION_HEADER:
            version = value
        elif key == _METHOD_HEADER:
            method = value
        elif key == _NAME_HEADER:
            name = value
    if version not in _MODERN_VERSIONS:
        return False, None
    if method != b"tools/call" or name is None:
        return True, None
    return True, decode_header_value(name.decode("latin-1"))


def tools_called(body: bytes) -> list[tuple[Any, str]]:
    """``(request id, tool name)`` of every ``tools/call`` in a JSON-RPC body (one message or a batch)."""
    if b"tools/call" not in body and b"\\" not in body:
        # Without a backslash no JSON escape can spell the method differently, so the common
        # case costs two substring searches, not a parse.
        return []
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return []  # the transport answers a parse error itself
    calls = []
    for message in data if isinstance(data, list) else [data]:
        if isinstance(message, dict) and message.get("method") == "tools/call":
            params = message.get("params")
            if isinstance(params, dict) and isinstance(params.get("name"), str):
                calls.append((message.get("id"), params["name"]))
    return calls


class BearerAuth:
    """ASGI middleware in front of an MCP transport endpoint.

    ``tool_scopes`` (tool name -> scope) turns on the 403 scope challenge for ``tools/call``
    POSTs; leave it out where a challenge would break clients (the legacy SSE ``/messages``).
    """

    def __init__(
        self,
        app: ASGIApp,
        verifier: McpTokenVerifier,
        challenges: Challenges,
        tool_scopes: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.challenges = challenges
        self.tool_scopes = tool_scopes
        self._users: dict[str, McpUser] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = bearer_token(scope)
        if raw is None:
            await _oauth_error(send, 401, self.challenges.unauthorized(), "invalid_token", "A bearer token is required.")
            return
        info = await self.verifier.verify(raw)
        if info is None:
            description = "The access token is invalid, expired, revoked, or not issued for this server."
            header = self.challenges.unauthorized("invalid_token", description)
            await _oauth_error(send, 401, header, "invalid_token", description)
            return

        if self.tool_scopes is not None and scope["method"] == "POST":
            modern, tool = modern_tool_call(scope)
            if modern:  # the SDK refuses a body that disagrees with these headers before dispatch
                needed = self.tool_scopes.get(tool) if tool is not None else None
                if tool is not None and needed is not None and needed not in info.scopes:
                    buffered = await read_body(receive)  # only now, for the id the error answers
                    calls = tools_called(buffered[0]) if buffered else []
                    await self._insufficient_scope(send, calls[0][0] if calls else None, tool, needed)
                    return
            else:
                buffered = await read_body(receive)
                if buffered is None:
                    await _plain(send, 413, b"Request body too large")
                    return
                body, receive = buffered
                for request_id, called in tools_called(body):
                    needed = self.tool_scopes.get(called)
                    if needed is not None and needed not in info.scopes:
                        await self._insufficient_scope(send, request_id, called, needed)
                        return

        user = self._user(info)
        scope["user"] = user
        reset = auth_context_var.set(user)
        try:
            await self.app(scope, receive, send)
        finally:
            auth_context_var.reset(reset)

    def _user(self, info: TokenInfo) -> McpUser:
        """The request's user, reused while the verifier hands back the same cached ``TokenInfo``."""
        user = self._users.get(info.token_id)
        if user is None or user.info is not info:
            if len(self._users) >= _USER_CACHE_MAX:
                self._users.clear()
            user = self._users[info.token_id] = McpUser(info, self.verifier.issuer)
        return user

    async def _insufficient_scope(self, send: Send, request_id: Any, tool: str, needed: str) -> None:
        message = (
            f"The tool {tool!r} needs the {needed!r} scope, which this access token was not granted. "
            f"Authorize again and allow {needed!r}."
        )
        header = self.challenges.insufficient_scope(needed, f"The {needed} scope is required.")
        body = {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": INSUFFICIENT_SCOPE_CODE,
                "message": message,
                "data": {"error": "insufficient_scope", "scope": needed},
            },
        }
        await _json(send, 403, body, [(b"www-authenticate", header.encode())])


async def read_body(receive: Receive) -> tuple[bytes, Receive] | None:
    """The whole request body and a ``receive`` that replays it, or None past ``MAX_BODY_BYTES``."""
    try:
        return await buffer_body(receive, MAX_BODY_BYTES)
    except BodyTooLarge:
        return None


async def _oauth_error(send: Send, status: int, challenge: str, error: str, description: str) -> None:
    await _json(send, status, {"error": error, "error_description": description},
                [(b"www-authenticate", challenge.encode())])


async def _json(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _plain(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": text})
