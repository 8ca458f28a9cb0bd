"""Starting the services: a taken port or a failing app is one clear error, never a half-running server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from starlette.applications import Starlette

from axiom_mcp.context import AppContext
from axiom_mcp.server import ServeError, _run, _Server, bind, serve, server_config
from tests.conftest import make_settings
from tests.support.servers import free_port


def _settings(tmp_path: Path, **overrides: object):  # type: ignore[no-untyped-def]
    return make_settings(f"sqlite+aiosqlite:///{tmp_path / 'axiom.db'}", tmp_path, **overrides)


async def test_a_taken_port_is_a_serve_error_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = _settings(tmp_path, auth_port=free_port(), web_port=free_port(), mcp_port=port)
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            await asyncio.wait_for(serve(settings), timeout=60)


def test_bind_refuses_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ServeError):
            bind("127.0.0.1", taken.getsockname()[1])


async def test_an_app_that_fails_to_start_stops_the_others(tmp_path: Path) -> None:
    stopped: list[str] = []

    @asynccontextmanager
    async def broken(_app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("cannot start")
        yield  # pragma: no cover

    @asynccontextmanager
    async def fine(_app: Starlette) -> AsyncIterator[None]:
        yield
        stopped.append("fine")

    settings = _settings(tmp_path)
    ctx = AppContext.from_settings(settings)
    apps = [("auth", Starlette(lifespan=fine), free_port()), ("mcp", Starlette(lifespan=broken), free_port())]
    servers = [_Server(server_config(settings, name, app, port)) for name, app, port in apps]
    sockets = [bind("127.0.0.1", port) for _name, _app, port in apps]
    try:
        with pytest.raises(ServeError, match="mcp failed to start"):
            await asyncio.wait_for(_run(ctx, settings, apps, servers, sockets), timeout=60)
    finally:
        for sock in sockets:
            sock.close()
        await ctx.close()
    assert stopped == ["fine"]
