"""Running the services: all three in one process (one event loop, one pool), or one of them.

Each service gets its own uvicorn server; signals are handled here once so Ctrl-C or SIGTERM
stops every server gracefully (uvicorn would otherwise let only the last one see the signal).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from axiom_mcp.context import AppContext
from axiom_mcp.data.cleanup import remove_expired
from axiom_mcp.db.migrate import migrate
from axiom_mcp.settings import Settings

Service = Literal["auth", "web", "mcp"]
log = logging.getLogger("axiom")


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
                report = await remove_expired(session, ctx.settings)
            if report.total():
                log.info("cleanup removed %s", vars(report))
        except Exception:  # noqa: BLE001 - a failed sweep must not stop the server; the next one retries
            log.exception("cleanup failed")
        await asyncio.sleep(interval)


async def serve(settings: Settings, only: Service | None = None) -> None:
    ctx = AppContext.from_settings(settings)
    await migrate(ctx.db.engine)
    servers = [
        _Server(
            uvicorn.Config(
                app,
                host=settings.host,
                port=port,
                log_level=settings.log_level,
                proxy_headers=bool(settings.trusted_proxies),
                forwarded_allow_ips=settings.trusted_proxies or None,
                timeout_graceful_shutdown=10,
            )
        )
        for _name, app, port in build_apps(ctx, only)
    ]

    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    sweeper = asyncio.create_task(cleanup_periodically(ctx))
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await ctx.close()
