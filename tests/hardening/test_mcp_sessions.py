"""One user cannot fill the MCP session table (issue 16, finding 8).

The SDK's session table (10,000 sessions) is shared by everyone and an idle session lives 30
minutes; legacy SSE streams have no limit at all. Each user now holds at most
``mcp_sessions_per_user`` of them (streamable-HTTP sessions and legacy SSE streams together):
opening one more closes that user's longest-idle one first, and when none is idle the new one is
refused with a 429. Real sessions and real streams against a real server, cap 3.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest

from axiom_mcp.app import create_mcp_app
from axiom_mcp.context import AppContext
from tests.mcp_server import rpc
from tests.support.factories import make_token, make_user
from tests.support.servers import free_port, running

CAP = 3
_ENDPOINT = re.compile(r"session_id=([0-9a-f]+)")


@dataclass
class Service:
    ctx: AppContext
    http: httpx.AsyncClient

    async def token(self, name: str) -> str:
        user = await make_user(self.ctx, name=name)
        return await make_token(self.ctx, user.id, ["items:read"], resource=self.ctx.settings.mcp_resource)


@pytest.fixture(scope="module")
async def service(ctx: AppContext) -> AsyncIterator[Service]:
    port = free_port()
    settings = ctx.settings.model_copy(update={
        "mcp_url": f"http://127.0.0.1:{port}", "mcp_port": port, "mcp_sessions_per_user": CAP,
    })
    shared = AppContext(settings=settings, db=ctx.db)
    async with running(create_mcp_app(shared), port) as url, httpx.AsyncClient(base_url=url, timeout=15) as http:
        yield Service(shared, http)


async def open_session(http: httpx.AsyncClient, token: str) -> httpx.Response:
    """``initialize`` (2025-11-25) then ``notifications/initialized``; the opening answer."""
    opened = await http.post("/mcp", json=rpc.initialize(), headers=rpc.headers(token))
    if opened.status_code == 200:
        session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": rpc.SESSION_ERA}
        done = await http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                               headers=rpc.headers(token, **session))
        assert done.status_code == 202, done.text
    return opened


async def session_id(http: httpx.AsyncClient, token: str) -> str:
    opened = await open_session(http, token)
    assert opened.status_code == 200, opened.text
    return opened.headers["mcp-session-id"]


async def ping(http: httpx.AsyncClient, token: str, session: str) -> int:
    answer = await http.post("/mcp", json=rpc.request("ping"), headers=rpc.headers(
        token, **{"Mcp-Session-Id": session, "MCP-Protocol-Version": rpc.SESSION_ERA}))
    return answer.status_code


async def hold_stream(stack: AsyncExitStack, http: httpx.AsyncClient, token: str, session: str) -> None:
    """Open the session's standalone GET stream and keep it open until ``stack`` closes: a request
    in flight, so the session is in use."""
    stream = await stack.enter_async_context(http.stream("GET", "/mcp", headers={
        "Authorization": f"Bearer {token}", "Accept": "text/event-stream",
        "Mcp-Session-Id": session, "MCP-Protocol-Version": rpc.SESSION_ERA,
    }))
    assert stream.status_code == 200


@dataclass
class SseStream:
    response: httpx.Response
    session_id: str
    lines: AsyncIterator[str]


async def open_sse(stack: AsyncExitStack, http: httpx.AsyncClient, token: str, path: str = "/sse") -> SseStream:
    response = await stack.enter_async_context(http.stream("GET", path, headers={
        "Authorization": f"Bearer {token}", "Accept": "text/event-stream"}))
    assert response.status_code == 200, (await response.aread()).decode()
    lines = response.aiter_lines()
    async for line in lines:
        found = _ENDPOINT.search(line)
        if found:
            return SseStream(response, found.group(1), lines)
    raise AssertionError("the stream ended before its endpoint event")


async def post_message(http: httpx.AsyncClient, token: str, stream: SseStream) -> int:
    answer = await http.post(f"/messages?session_id={stream.session_id}", json=rpc.initialize(),
                             headers=rpc.headers(token))
    return answer.status_code


async def ended(stream: SseStream) -> bool:
    """Whether the server closed the stream (within a few seconds)."""
    async def drain() -> None:
        async for _ in stream.lines:
            pass

    try:
        await asyncio.wait_for(drain(), 5)
    except TimeoutError:
        return False
    except httpx.HTTPError:
        return True  # the connection was cut mid-stream
    return True


async def test_a_session_over_the_cap_closes_the_users_longest_idle_one(service: Service) -> None:
    token, other = await service.token("Filler"), await service.token("Bystander")
    theirs = await session_id(service.http, other)
    sessions = [await session_id(service.http, token) for _ in range(CAP)]
    assert await ping(service.http, token, sessions[0]) == 200  # used last now: the longest idle is sessions[1]

    newest = await session_id(service.http, token)

    assert await ping(service.http, token, sessions[1]) == 404
    for session in [sessions[0], sessions[2], newest]:
        assert await ping(service.http, token, session) == 200
    assert await ping(service.http, other, theirs) == 200, "another user's session was closed"


async def test_a_session_over_the_cap_is_refused_when_none_is_idle(service: Service) -> None:
    token = await service.token("Busy")
    async with AsyncExitStack() as stack:
        sessions = [await session_id(service.http, token) for _ in range(CAP)]
        for session in sessions:
            await hold_stream(stack, service.http, token, session)

        refused = await open_session(service.http, token)
        assert refused.status_code == 429, refused.text
        assert "mcp-session-id" not in refused.headers
        message = refused.json()["error"]["message"]
        assert f"{CAP} MCP sessions" in message and "in use" in message, message
        streamed = await service.http.get("/sse", headers={"Authorization": f"Bearer {token}"})
        assert streamed.status_code == 429, streamed.text

        # Another user is not held back by this one.
        assert (await open_session(service.http, await service.token("Next door"))).status_code == 200

    # Once the streams end the sessions are idle again, and a new one takes the longest-idle one's place.
    await asyncio.sleep(0.2)
    for session in sessions[1:]:
        assert await ping(service.http, token, session) == 200
    newest = await session_id(service.http, token)
    assert await ping(service.http, token, sessions[0]) == 404
    assert await ping(service.http, token, newest) == 200


@pytest.mark.parametrize("path", ["/sse", "/mcp"])
async def test_legacy_sse_streams_count_and_the_longest_idle_one_closes(service: Service, path: str) -> None:
    token = await service.token("Streamer")
    async with AsyncExitStack() as stack:
        streams = [await open_sse(stack, service.http, token, path) for _ in range(CAP)]
        assert await post_message(service.http, token, streams[0]) == 202  # the longest idle is streams[1]

        newest = await open_sse(stack, service.http, token, path)

        assert await ended(streams[1])
        assert await post_message(service.http, token, streams[1]) == 404
        for stream in [streams[0], streams[2], newest]:
            assert await post_message(service.http, token, stream) == 202


async def test_sessions_and_streams_share_the_cap(service: Service) -> None:
    token = await service.token("Mixed")
    async with AsyncExitStack() as stack:
        session = await session_id(service.http, token)
        streams = [await open_sse(stack, service.http, token) for _ in range(CAP - 1)]
        for stream in streams:
            assert await post_message(service.http, token, stream) == 202  # the session is the longest idle

        await open_sse(stack, service.http, token)

        assert await ping(service.http, token, session) == 404
