"""The lean path of the hot request: one self-contained ``tools/call`` POST (MCP 2026-07-28).

Such a call carries its whole envelope in ``params._meta`` and shares nothing with other
requests, yet the SDK serves it through its general machine (dispatch context, connection,
middleware chain, re-validation and re-serialisation of the result). This path serves exactly that
request with far less work (bench/README.md says how much) and hands anything else to the SDK:

1. The SDK's own checks run first, in the SDK's order, with the SDK's functions (Content-Type,
   Accept, ``JSONRPCRequest``, duplicated routing headers, ``classify_inbound_request``, the
   ``tools/call`` params model). A request any of them would refuse, or that is not a plain
   ``tools/call`` of one of our tools (no ``Mcp-Param-*`` headers, no params beyond ``name``,
   ``arguments`` and ``_meta``), goes to the SDK.
2. The tool runs through the same ``AxiomTool.run`` as on every transport, with the caller handed
   over directly (``tool_calls.DirectCall``).
3. The answer is written once, as bytes, member for member what the SDK writes; tool errors and
   crashes are worded as the SDK words them.

It mirrors SDK internals, so ``mcp`` is pinned to the minor version it was verified against;
``tests/mcp_server/test_stateless_calls.py`` compares both paths' answers and names each internal
it relies on.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pydantic_core
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import TransportSecurityMiddleware
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    MCP_PARAM_HEADER_PREFIX,
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
)
from mcp_types import SERVER_INFO_META_KEY, JSONRPCRequest
from mcp_types import methods as spec_methods
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from axiom_mcp.mcp_server.auth import McpUser, read_body
from axiom_mcp.mcp_server.tool_calls import AxiomTool, DirectCall

logger = logging.getLogger(__name__)

_PARAM_HEADER_PREFIX = MCP_PARAM_HEADER_PREFIX.lower().encode()
_PLAIN_PARAMS = frozenset({"name", "arguments", "_meta"})
_ENVELOPE = frozenset({"jsonrpc", "id", "method", "params"})
_JSON_HEADERS = [(b"content-type", b"application/json")]


class StatelessToolCalls:
    """ASGI endpoint for 2026-07-28 POSTs to ``/mcp``: ``tools/call`` here, the rest to ``fallback``.

    Sits behind ``auth.BearerAuth`` (``scope["user"]`` is the verified caller) and is only given
    POSTs whose ``MCP-Protocol-Version`` names a 2026-era version (``transports.Transports.mcp``).
    """

    def __init__(self, tools: list[AxiomTool], server_info: dict[str, Any], fallback: ASGIApp,
                 security: TransportSecurityMiddleware) -> None:
        self.tools = {tool.name: tool for tool in tools}
        self.fallback = fallback
        self.security = security
        # The serverInfo stamp the SDK's runner puts on every 2026-era result (spec #3002).
        self._meta_tail = b',"_meta":' + pydantic_core.to_json({SERVER_INFO_META_KEY: server_info}) + b"}}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if await self.security.validate_request(request, is_post=True) is not None:
            await self.fallback(scope, receive, send)  # the SDK words the refusal
            return
        has_json, _has_sse = check_accept_headers(request)
        if not has_json:  # the SDK answers 406
            await self.fallback(scope, receive, send)
            return
        buffered = await read_body(receive)
        if buffered is None:  # the SDK's own refusal (RequestBodyLimitMiddleware), word for word
            await Response("Request body too large", status_code=413)(scope, receive, send)
            return
        body, replay = buffered
        call = self._recognise(scope, request, body)
        if call is None:
            await self.fallback(scope, replay, send)
            return
        request_id, tool, arguments = call
        user = scope.get("user")
        if not isinstance(user, McpUser):  # BearerAuth always sets it; never serve a call without it
            await self.fallback(scope, replay, send)
            return
        status, answer = await self._result(tool, arguments, user)
        await _send_json(send, status, self._id(request_id) + answer)

    def _recognise(self, scope: Scope, request: Request, body: bytes) -> tuple[Any, AxiomTool, dict[str, Any]] | None:
        """``(id, tool, arguments)`` if this is a ``tools/call`` the SDK would dispatch as it stands."""
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if not isinstance(decoded, dict) or decoded.get("method") != "tools/call" or "id" not in decoded:
            return None
        if not decoded.keys() <= _ENVELOPE:
            return None
        params = decoded.get("params")
        if not isinstance(params, dict) or not params.keys() <= _PLAIN_PARAMS:
            return None
        tool = self.tools.get(params.get("name"))  # type: ignore[arg-type]
        arguments = params.get("arguments", {})
        if tool is None or not isinstance(arguments, dict):
            return None
        if any(key.startswith(_PARAM_HEADER_PREFIX) for key, _ in scope["headers"]):
            return None  # the SDK validates Mcp-Param-* headers against the tool's schema
        try:
            request_model = JSONRPCRequest.model_validate(decoded)
        except ValidationError:
            return None
        if find_duplicated_routing_header(request.headers.items()) is not None:
            return None
        verdict = classify_inbound_request(decoded, headers=dict(request.headers))
        if isinstance(verdict, InboundLadderRejection):
            return None
        try:
            spec_methods.validate_client_request("tools/call", verdict.protocol_version, params)
        except ValidationError:
            return None
        return request_model.id, tool, arguments

    async def _result(self, tool: AxiomTool, arguments: dict[str, Any], user: McpUser) -> tuple[int, bytes]:
        """The HTTP status and ``"result":...}`` (or ``"error":...}``) of the call."""
        try:
            output = await tool.run(arguments, DirectCall(user))
            data = output.model_dump(mode="json", by_alias=True) if isinstance(output, BaseModel) else output
            structured = pydantic_core.to_json(data)
        except MCPError as exc:  # a protocol error, not a tool error: the SDK's top-level error reply
            error = pydantic_core.to_json(exc.error.model_dump(mode="json", by_alias=True, exclude_none=True))
            return ERROR_CODE_HTTP_STATUS.get(exc.error.code, 200), b'"error":' + error + b"}"
        except ToolError as exc:
            if isinstance(exc, UnexpectedToolError):
                logger.exception("Tool %r raised an unexpected exception", tool.name)
            else:
                logger.info("Tool %r failed: %r", tool.name, str(exc))
            return 200, self._failure(str(exc))
        except Exception:  # noqa: BLE001 - a crash while writing the result: worded as the SDK words one
            logger.exception("Tool %r raised an unexpected exception", tool.name)
            return 200, self._failure(f"Error executing tool {tool.name}")
        text = pydantic_core.to_json(structured.decode())
        return 200, (
            b'"result":{"content":[{"text":' + text + b',"type":"text"}],"isError":false,"resultType":"complete"'
            + b',"structuredContent":' + structured + self._meta_tail
        )

    def _failure(self, message: str) -> bytes:
        text = pydantic_core.to_json(message)
        return (
            b'"result":{"content":[{"text":' + text + b',"type":"text"}],"isError":true,"resultType":"complete"'
            + self._meta_tail
        )

    @staticmethod
    def _id(request_id: Any) -> bytes:
        return b'{"jsonrpc":"2.0","id":' + pydantic_core.to_json(request_id) + b","


async def _send_json(send: Send, status: int, body: bytes) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
