"""Connecting the SDK's own clients to the server over each transport, with a bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.client.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

TRANSPORTS = ["streamable-2025-11-25", "streamable-2026-07-28", "sse", "get-mcp-sse"]
"""Streamable HTTP in the session era and the stateless era, legacy SSE at /sse, and the seed's GET /mcp."""

STREAMABLE = TRANSPORTS[:2]
LEGACY_SSE = TRANSPORTS[2:]

PROTOCOL_VERSION = {
    "streamable-2025-11-25": "2025-11-25",
    "streamable-2026-07-28": "2026-07-28",
    "sse": "2025-11-25",
    "get-mcp-sse": "2025-11-25",
}


@asynccontextmanager
async def connect(url: str, token: str | None, transport: str, **client_options: Any) -> AsyncIterator[Client]:
    """An SDK ``Client`` connected to the server at ``url`` over ``transport``.

    The 2026-07-28 era is reached the way clients reach it, by the SDK's ``auto`` negotiation
    (``server/discover``); the session era by ``legacy`` (``initialize``).
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if transport.startswith("streamable"):
        mode = "legacy" if transport == "streamable-2025-11-25" else "auto"
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(10, read=30)) as http:
            async with Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode,
                              **client_options) as client:
                yield client
    else:
        path = "/sse" if transport == "sse" else "/mcp"
        async with Client(sse_client(f"{url}{path}", headers=headers, timeout=10, sse_read_timeout=30),
                          mode="legacy", **client_options) as client:
            yield client
