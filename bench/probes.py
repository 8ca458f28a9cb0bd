"""One-off requests before a load run: check the call works and learn its answer's size.

A load run whose every answer is an error would measure the error path, so each scenario first
makes one call the way its load script will, checks the answer, and uses the body's length for
the ceiling. The 2025-11-25 sessions the session script reuses are opened here too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

MODERN_VERSION = "2026-07-28"
SESSION_VERSION = "2025-11-25"
CLIENT_INFO = {"name": "axiom-bench", "version": "1"}


class ProbeFailed(RuntimeError):
    pass


@dataclass
class Probe:
    size: int
    """Bytes of the answer's body."""
    items: int
    total: int


def _check_page(data: dict[str, object], where: str) -> tuple[int, int]:
    items = data.get("items")
    if not isinstance(items, list):
        raise ProbeFailed(f"{where}: no items in {str(data)[:300]}")
    return len(items), int(data.get("totalItems", -1))  # type: ignore[call-overload]


def probe_rest(api_url: str, token: str, path: str) -> Probe:
    answer = httpx.get(f"{api_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    if answer.status_code != 200:
        raise ProbeFailed(f"GET {path}: HTTP {answer.status_code} {answer.text[:300]}")
    count, total = _check_page(answer.json(), f"GET {path}")
    return Probe(len(answer.content), count, total)


def tools_call_body(request_id: int, page: int, per_page: int, *, modern: bool) -> dict[str, object]:
    params: dict[str, object] = {"name": "get_user_items", "arguments": {"page": page, "perPage": per_page}}
    if modern:
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
        }
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def _tool_page(answer: httpx.Response, where: str) -> dict[str, object]:
    if answer.status_code != 200:
        raise ProbeFailed(f"{where}: HTTP {answer.status_code} {answer.text[:300]}")
    text = answer.text
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        text = next(line[5:].strip() for line in text.splitlines() if line.startswith("data:"))
    message = json.loads(text)
    result = message.get("result")
    if not isinstance(result, dict) or result.get("isError"):
        raise ProbeFailed(f"{where}: {text[:400]}")
    structured = result.get("structuredContent")
    if not isinstance(structured, dict):
        raise ProbeFailed(f"{where}: no structured content in {text[:300]}")
    return structured


def modern_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN_VERSION,
        "Mcp-Method": "tools/call",
        "Mcp-Name": "get_user_items",
    }


def probe_stateless(mcp_url: str, token: str, page: int, per_page: int) -> Probe:
    body = tools_call_body(1, page, per_page, modern=True)
    answer = httpx.post(f"{mcp_url}/mcp", json=body, headers=modern_headers(token), timeout=60)
    count, total = _check_page(_tool_page(answer, "stateless tools/call"), "stateless tools/call")
    return Probe(len(answer.content), count, total)


def open_session(client: httpx.Client, mcp_url: str, token: str) -> str:
    """initialize + notifications/initialized (2025-11-25); the ``Mcp-Session-Id``."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    init = {
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": SESSION_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
    }
    answer = client.post(f"{mcp_url}/mcp", json=init, headers=headers)
    session_id = answer.headers.get("mcp-session-id")
    if answer.status_code != 200 or not session_id:
        raise ProbeFailed(f"initialize: HTTP {answer.status_code} {answer.text[:300]}")
    headers |= {"Mcp-Session-Id": session_id, "MCP-Protocol-Version": SESSION_VERSION}
    note = client.post(f"{mcp_url}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                       headers=headers)
    if note.status_code not in (200, 202):
        raise ProbeFailed(f"notifications/initialized: HTTP {note.status_code} {note.text[:300]}")
    return session_id


def open_sessions(mcp_url: str, tokens: list[str], count: int) -> list[tuple[str, str]]:
    """``count`` sessions, round-robin over ``tokens``: (token, session id) pairs."""
    with httpx.Client(timeout=60) as client:
        return [(tokens[i % len(tokens)], open_session(client, mcp_url, tokens[i % len(tokens)]))
                for i in range(count)]


def close_sessions(mcp_url: str, sessions: list[tuple[str, str]]) -> None:
    with httpx.Client(timeout=30) as client:
        for token, session_id in sessions:
            try:
                client.delete(f"{mcp_url}/mcp", headers={
                    "Authorization": f"Bearer {token}", "Mcp-Session-Id": session_id,
                    "MCP-Protocol-Version": SESSION_VERSION})
            except httpx.HTTPError:
                pass  # best effort: the server drops sessions when it stops anyway


def probe_session(mcp_url: str, token: str, session_id: str, page: int, per_page: int) -> Probe:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "Mcp-Session-Id": session_id,
        "MCP-Protocol-Version": SESSION_VERSION,
    }
    answer = httpx.post(f"{mcp_url}/mcp", json=tools_call_body(1, page, per_page, modern=False),
                        headers=headers, timeout=60)
    count, total = _check_page(_tool_page(answer, "session tools/call"), "session tools/call")
    return Probe(len(answer.content), count, total)
