"""Single-origin mode: the auth, web and MCP apps behind one port and one public URL.

One HTTPS tunnel or one domain is then enough to connect ChatGPT or Claude: the original's advice to
tunnel only the MCP port cannot work, because the OAuth endpoints and the consent page would still
be on localhost. Each request goes, unchanged (same path, same root_path), to the app that owns its
path, so every app sees exactly what it would see on its own port.

Mounting with Starlette's ``Mount`` would not do: it runs no lifespan of a mounted app, and the MCP
app's streamable HTTP session manager only works inside its lifespan. So this dispatcher speaks the
ASGI lifespan protocol itself and runs every app's lifespan (ASGI spec, "Lifespan Protocol").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("axiom.single_origin")

AUTH_PATHS: tuple[str, ...] = (
    "/api",
    "/oauth",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/docs",
    "/openapi.json",
)
"""Paths of the auth + API service (each with everything below it)."""

WEB_PATHS_UNDER_AUTH: tuple[str, ...] = ("/oauth/consent",)
"""The web app's pages that live under an auth prefix: the consent page, whose path the original design fixes."""

MCP_PATHS: tuple[str, ...] = ("/mcp", "/sse", "/messages", "/health", "/.well-known/oauth-protected-resource")
"""Paths of the MCP service; RFC 9728 metadata includes its path-suffixed form."""


def _under(path: str, prefixes: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``prefixes`` or below one (on a segment boundary: /api, not /apiary)."""
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def owner_of(path: str) -> str:
    """Which service answers ``path``: "auth", "mcp" or "web" (everything else)."""
    if _under(path, WEB_PATHS_UNDER_AUTH):
        return "web"
    if _under(path, MCP_PATHS):
        return "mcp"
    if _under(path, AUTH_PATHS):
        return "auth"
    return "web"


class LifespanFailed(RuntimeError):
    """A mounted app reported ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``."""


class _AppLifespan:
    """Drives one app's lifespan protocol in a task of its own, as a server would."""

    def __init__(self, name: str, app: ASGIApp, state: dict[str, object]) -> None:
        self.name = name
        self.app = app
        self.state = state
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.supported = True

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        await self.app(scope, self.inbox.get, self.outbox.put)

    async def _answer(self) -> Message | None:
        """The app's next message, or None when its lifespan task ended without one."""
        assert self.task is not None
        getter = asyncio.ensure_future(self.outbox.get())
        done, _ = await asyncio.wait({getter, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await getter
        return None

    async def startup(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"lifespan:{self.name}")
        await self.inbox.put({"type": "lifespan.startup"})
        message = await self._answer()
        if message is None:
            # The app returned or raised before answering: it does not speak lifespan (uvicorn's
            # "auto" mode treats this the same way). Its error, if any, is logged, not fatal.
            self.supported = False
            if not self.task.cancelled() and self.task.exception() is not None:
                log.debug("%s app has no lifespan: %r", self.name, self.task.exception())
            return
        if message["type"] == "lifespan.startup.failed":
            await self._finish()
            raise LifespanFailed(f"{self.name} app failed to start: {message.get('message', '')}")

    async def _finish(self, timeout: float = 5.0) -> None:
        """Wait for the lifespan task to end (cancel it after ``timeout``); its own error was reported."""
        assert self.task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout=timeout)
        except asyncio.TimeoutError:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        except Exception:  # noqa: BLE001 - the failure message already said what went wrong
            pass

    async def shutdown(self) -> None:
        if not self.supported or self.task is None:
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        message = await self._answer()
        await self._finish()
        if message is not None and message["type"] == "lifespan.shutdown.failed":
            raise LifespanFailed(f"{self.name} app failed to stop: {message.get('message', '')}")


@dataclass
class SingleOriginApp:
    """An ASGI app sending each request to the auth, web or MCP app by its path (see ``owner_of``)."""

    auth: ASGIApp
    web: ASGIApp
    mcp: ASGIApp

    def app_for(self, path: str) -> ASGIApp:
        return {"auth": self.auth, "web": self.web, "mcp": self.mcp}[owner_of(path)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        await self.app_for(scope.get("path", "/"))(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Children share the server's lifespan state, so whatever state one yields reaches requests.
        state = scope.setdefault("state", {})
        apps = [_AppLifespan(name, app, state) for name, app in (("auth", self.auth), ("web", self.web), ("mcp", self.mcp))]
        started: list[_AppLifespan] = []
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            for child in apps:
                await child.startup()
                started.append(child)
        except Exception as exc:
            for child in reversed(started):
                with contextlib.suppress(Exception):
                    await child.shutdown()
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        errors: list[str] = []
        for child in reversed(started):
            try:
                await child.shutdown()
            except Exception as exc:  # noqa: BLE001 - stop the others too, then report every failure
                errors.append(str(exc))
        if errors:
            await send({"type": "lifespan.shutdown.failed", "message": "; ".join(errors)})
        else:
            await send({"type": "lifespan.shutdown.complete"})
