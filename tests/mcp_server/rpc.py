"""Hand-made MCP requests, for checking what the SDK client does not show: statuses and headers."""

from __future__ import annotations

import re
from typing import Any

from mcp_types import CLIENT_CAPABILITIES_META_KEY, PROTOCOL_VERSION_META_KEY

MODERN = "2026-07-28"
SESSION_ERA = "2025-11-25"
ACCEPT = "application/json, text/event-stream"


def headers(token: str | None = None, **extra: str) -> dict[str, str]:
    values = {"Accept": ACCEPT, "Content-Type": "application/json", **extra}
    if token is not None:
        values["Authorization"] = f"Bearer {token}"
    return values


def initialize(request_id: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0", "id": request_id, "method": "initialize",
        "params": {"protocolVersion": SESSION_ERA, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
    }


def request(method: str, params: dict[str, Any] | None = None, request_id: int = 2) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}


def modern_call(tool: str, arguments: dict[str, Any], token: str | None, request_id: int = 7) -> tuple[dict, dict]:
    """A self-contained 2026-07-28 ``tools/call``: the body with its ``_meta`` envelope, and its headers."""
    body = request("tools/call", {
        "name": tool, "arguments": arguments,
        "_meta": {PROTOCOL_VERSION_META_KEY: MODERN, CLIENT_CAPABILITIES_META_KEY: {}},
    }, request_id)
    return body, headers(token, **{"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": tool})


def challenge(header: str) -> dict[str, str]:
    """The parameters of a ``WWW-Authenticate: Bearer k="v", ...`` header (RFC 6750 section 3)."""
    assert header.startswith("Bearer "), header
    return dict(re.findall(r'(\w+)="([^"]*)"', header))
