"""The single-origin dispatcher: paths reach the right app, and every app's lifespan runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from axiom_mcp.single_origin import SingleOriginApp, owner_of
from tests.support.servers import running


@pytest.mark.parametrize(
    ("path", "owner"),
    [
        ("/api/v1/user/items", "auth"),
        ("/api", "auth"),
        ("/oauth/authorize", "auth"),
        ("/oauth/token", "auth"),
        ("/oauth/register", "auth"),
        ("/.well-known/oauth-authorization-server", "auth"),
        ("/.well-known/oauth-authorization-server/mcp", "auth"),
        ("/.well-known/openid-configuration", "auth"),
        ("/docs", "auth"),
        ("/openapi.json", "auth"),
        ("/oauth/consent", "web"),
        ("/mcp", "mcp"),
        ("/mcp/", "mcp"),
        ("/sse", "mcp"),
        ("/messages", "mcp"),
        ("/messages/", "mcp"),
        ("/health", "mcp"),
        ("/.well-known/oauth-protected-resource", "mcp"),
        ("/.well-known/oauth-protected-resource/mcp", "mcp"),
        ("/", "web"),
        ("/auth", "web"),
        ("/apiary", "web"),
        ("/mcpx", "web"),
        ("/oauth-help", "web"),
        ("/oauth/consentx", "auth"),
        ("/static/style.css", "web"),
    ],
    ids=lambda value: value if isinstance(value, str) and value.startswith("/") else None,
)
def test_owner_of(path: str, owner: str) -> None:
    assert owner_of(path) == owner


def _named_app(name: str, events: list[str], *, fail_startup: bool = False) -> Starlette:
    """A Starlette app answering every path with its name and the path it saw, recording its lifespan."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, str]]:
        events.append(f"{name} start")
        if fail_startup:
            raise RuntimeError(f"{name} cannot start")
        yield {f"{name}_state": name}
        events.append(f"{name} stop")

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(
            {"app": name, "path": request.url.path, "state": sorted(vars(request.state)["_state"])}
        )

    return Starlette(routes=[Route("/{rest:path}", echo, methods=["GET", "POST"])], lifespan=lifespan)


def _mcp_app() -> ASGIApp:
    """A real SDK streamable HTTP app: it answers only while its session manager's lifespan runs."""
    server = MCPServer("probe")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    return server.streamable_http_app()


async def test_routes_each_path_to_its_app_unchanged_and_shares_lifespan_state() -> None:
    events: list[str] = []
    app = SingleOriginApp(auth=_named_app("auth", events), web=_named_app("web", events), mcp=_named_app("mcp", events))
    async with running(app) as url, httpx.AsyncClient(base_url=url) as client:
        for path, owner in [("/api/v1/user/items", "auth"), ("/oauth/consent", "web"), ("/health", "mcp"), ("/x", "web")]:
            body = (await client.get(path)).json()
            assert (body["app"], body["path"]) == (owner, path)
            assert body["state"] == ["auth_state", "mcp_state", "web_state"]
        assert events == ["auth start", "web start", "mcp start"]
    assert events[3:] == ["mcp stop", "web stop", "auth stop"]


async def test_the_mcp_apps_session_manager_runs_under_the_dispatcher() -> None:
    events: list[str] = []
    app = SingleOriginApp(auth=_named_app("auth", events), web=_named_app("web", events), mcp=_mcp_app())
    async with running(app) as url:
        async with Client(streamable_http_client(f"{url}/mcp"), mode="legacy") as client:
            tools = await client.list_tools()
            assert [tool.name for tool in tools.tools] == ["add"]
            result = await client.call_tool("add", {"a": 2, "b": 3})
            assert result.structured_content == {"result": 5}


async def _drive_lifespan(app: ASGIApp) -> list[str]:
    """Send lifespan.startup (and shutdown, if startup completed) to ``app``; return what it answered."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    answers: list[str] = []

    async def send(message: dict[str, str]) -> None:
        answers.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            await inbox.put({"type": "lifespan.shutdown"})

    await inbox.put({"type": "lifespan.startup"})
    await asyncio.wait_for(app({"type": "lifespan", "state": {}}, inbox.get, send), timeout=10)  # type: ignore[arg-type]
    return answers


async def test_a_failing_app_fails_startup_and_stops_the_ones_already_started() -> None:
    events: list[str] = []
    app = SingleOriginApp(
        auth=_named_app("auth", events), web=_named_app("web", events, fail_startup=True), mcp=_named_app("mcp", events)
    )
    assert await _drive_lifespan(app) == ["lifespan.startup.failed"]
    assert events == ["auth start", "web start", "auth stop"]


async def test_an_app_without_lifespan_support_is_served_anyway() -> None:
    async def plain(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")  # what a bare ASGI app does with a lifespan scope
        await JSONResponse({"app": "plain"})(scope, receive, send)  # type: ignore[arg-type]

    events: list[str] = []
    app = SingleOriginApp(auth=plain, web=_named_app("web", events), mcp=_named_app("mcp", events))
    assert await _drive_lifespan(app) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["web start", "mcp start", "mcp stop", "web stop"]
