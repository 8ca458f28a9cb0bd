"""A real server on loopback whose event loop runs in a background thread.

Synchronous tools (schemathesis sends with ``requests``, hypothesis drives plain functions) block
the test's own event loop, so a server they call must live on another loop. This one builds its
own AppContext (engine and pool) inside that loop and closes it there, so no connection ever
crosses loops (asyncpg connections are bound to the loop that made them).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from starlette.types import ASGIApp

from axiom_mcp.context import AppContext
from axiom_mcp.settings import Settings
from tests.support.servers import running

T = TypeVar("T")


class ThreadedServer:
    """The app built by ``factory`` served on 127.0.0.1 from a thread; ``url`` once started."""

    def __init__(self, settings: Settings, factory: Callable[[AppContext], ASGIApp]) -> None:
        self.settings = settings
        self.factory = factory
        self.url = ""
        self.ctx: AppContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="hardening-server", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread in stop()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.ctx = AppContext.from_settings(self.settings)
        try:
            async with running(self.factory(self.ctx)) as url:
                self.url = url
                self._ready.set()
                await self._stop.wait()
        finally:
            await self.ctx.close()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the threaded server did not start within 30 s")
        if self._error is not None:
            raise RuntimeError("the threaded server failed to start") from self._error

    def call(self, work: Callable[[AppContext], Awaitable[T]], timeout: float = 30) -> T:
        """Run ``work(ctx)`` on the server's loop (to create users or tokens) and return its result."""
        assert self._loop is not None and self.ctx is not None
        return asyncio.run_coroutine_threadsafe(work(self.ctx), self._loop).result(timeout)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        if self._thread.is_alive():
            raise RuntimeError("the threaded server did not stop within 30 s")
        if self._error is not None:
            raise RuntimeError("the threaded server failed") from self._error


@contextmanager
def serve_in_thread(settings: Settings, factory: Callable[[AppContext], ASGIApp]) -> Iterator[ThreadedServer]:
    server = ThreadedServer(settings, factory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


