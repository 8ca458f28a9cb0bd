"""Running the services: all three in one process (one event loop, one pool), or one of them.

Each service gets its own uvicorn server; signals are handled here once so Ctrl-C or SIGTERM
stops every server gracefully (uvicorn would otherwise let only the last one see the signal):
they stop accepting connections, finish the requests in flight (open SSE streams are told to end)
for up to ``GRACEFUL_SECONDS``, run their apps' shutdown, and the database pool is closed. A second
Ctrl-C stops at once.

Every app is wrapped in ``observability.RequestLog`` (request ids, one JSON line per request,
forwarded headers only from ``settings.trusted_proxies``); uvicorn's own access log is off because
it would print query strings, which carry authorization codes and consent request ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from axiom_mcp.context import AppContext
from axiom_mcp.errors import AxiomError
from axiom_mcp.data import users
from axiom_mcp.data.cleanup import remove_expired
from axiom_mcp.db.migrate import migrate
from axiom_mcp.settings import Settings

Service = Literal["auth", "web", "mcp"]
log = logging.getLogger("axiom")
GRACEFUL_SECONDS = 10


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (``uvicorn[standard]`` brings it), else asyncio's.

    ``uvicorn.run`` would pick uvloop itself, but ``serve`` runs its servers inside our own loop,
    so it picks it here (bench/README.md measures the difference).
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # signals are handled once, in serve()
        yield


def build_apps(ctx: AppContext, only: Service | None) -> list[tuple[str, ASGIApp, int]]:
    from axiom_mcp import app as factories

    settings = ctx.settings
    if settings.single_origin:
        return [("single-origin", factories.create_single_origin_app(ctx), settings.single_origin_port)]
    wanted: list[tuple[Service, int]] = [("auth", settings.auth_port), ("web", settings.web_port), ("mcp", settings.mcp_port)]
    builders = {"auth": factories.create_auth_app, "web": factories.create_web_app, "mcp": factories.create_mcp_app}
    return [(name, builders[name](ctx), port) for name, port in wanted if only in (None, name)]


async def cleanup_periodically(ctx: AppContext) -> None:
    interval = ctx.settings.cleanup_interval.total_seconds()
    while True:
        try:
            async with ctx.db.session() as session:
                report = await remove_expired(session, ctx.settings, ctx.blobs)
            if report.total():
                log.info("cleanup removed %s", vars(report))
        except Exception:  # noqa: BLE001 - a failed sweep must not stop the server; the next one retries
            log.exception("cleanup failed")
        await asyncio.sleep(interval)


def banner(settings: Settings, first_run: bool) -> str:
    """What a person starting Axiom reads once it is up: where to go, and what to give an AI app."""
    web = settings.web_url
    lines = [
        "",
        "Axiom is running.",
        f"  Web app      {web}",
        f"  MCP server   {settings.mcp_resource}   (the URL to give ChatGPT, Claude or another AI app)",
        f"  Auth + API   {settings.public_url}",
    ]
    if first_run:
        lines.append(f"No accounts yet: sign up at {web}/auth/signup")
    lines += ["Stop with Ctrl-C.", ""]
    return "\n".join(lines)


async def announce_when_ready(ctx: AppContext, servers: list[_Server], poll: float = 0.05) -> None:
    """Once every server listens: a banner on a terminal, one log line otherwise (logs stay JSON)."""
    while not all(server.started for server in servers):
        await asyncio.sleep(poll)
    settings = ctx.settings
    async with ctx.db.session() as session:
        first_run = not await users.has_users(session)
    if sys.stderr.isatty():
        print(banner(settings, first_run), file=sys.stderr, flush=True)
    else:
        log.info(
            "ready: web app %s, MCP server %s%s", settings.web_url, settings.mcp_resource,
            f"; no accounts yet: sign up at {settings.web_url}/auth/signup" if first_run else "",
        )


def server_config(settings: Settings, name: str, app: ASGIApp, port: int) -> uvicorn.Config:
    """The uvicorn configuration of one service: our request log outermost, no access log of its own."""
    from axiom_mcp.observability import RequestLog

    return uvicorn.Config(
        RequestLog(app, service=name, trusted_proxies=settings.trusted_proxies),
        host=settings.host,
        port=port,
        log_level=settings.log_level,
        log_config=None,  # our handlers (observability.configure_logging), not uvicorn's
        access_log=False,
        proxy_headers=False,  # RequestLog applies them, from trusted proxies only
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        server_header=False,
    )


def _public_url(settings: Settings, name: str) -> str:
    return {"auth": settings.public_url, "web": settings.web_url, "mcp": settings.mcp_url}.get(name, settings.public_url)


class ServeError(AxiomError):
    """A service could not start: its port is taken, or its app failed to start."""


def bind(host: str, port: int) -> socket.socket:
    """Listen on ``host:port`` before anything starts, so a taken port is one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


async def serve(settings: Settings, only: Service | None = None) -> None:
    """Run the services until SIGTERM or Ctrl-C; raises ``ServeError`` if one cannot start."""
    ctx = AppContext.from_settings(settings)
    sockets: list[socket.socket] = []
    try:
        await migrate(ctx.db.engine)
        apps = build_apps(ctx, only)
        for _name, _app, port in apps:
            sockets.append(bind(settings.host, port))
        servers = [_Server(server_config(settings, name, app, port)) for name, app, port in apps]
        await _run(ctx, settings, apps, servers, sockets)
    finally:
        for sock in sockets:
            sock.close()
        await ctx.close()
        log.info("stopped")


async def _run(
    ctx: AppContext,
    settings: Settings,
    apps: list[tuple[str, ASGIApp, int]],
    servers: list[_Server],
    sockets: list[socket.socket],
) -> None:
    loop = asyncio.get_running_loop()
    failed: list[str] = []

    def stop(sig: signal.Signals) -> None:
        log.info("received %s, shutting down", sig.name)
        for server in servers:
            # handle_exit (not should_exit alone): a second Ctrl-C forces the exit, and sse-starlette
            # hooks it to end open SSE streams instead of waiting out the graceful timeout.
            server.handle_exit(sig, None)

    async def run_one(name: str, server: _Server, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit:  # uvicorn's way of saying the app's startup failed (it logged why)
            failed.append(name)
        if not server.started and name not in failed:
            failed.append(name)
        if failed:  # one service down takes the others with it: a half-running deployment misleads
            for other in servers:
                other.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
    for name, _app, port in apps:
        log.info("serving %s on http://%s:%s, public URL %s", name, settings.host, port, _public_url(settings, name))
    sweeper = asyncio.create_task(cleanup_periodically(ctx))
    announcer = asyncio.create_task(announce_when_ready(ctx, servers))
    try:
        await asyncio.gather(
            *(run_one(name, server, sock) for (name, _app, _port), server, sock in zip(apps, servers, sockets, strict=True))
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for task in (sweeper, announcer):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if failed:
        raise ServeError(f"{', '.join(failed)} failed to start (see the log above)")
