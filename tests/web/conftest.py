"""Fixtures of the web tests: the web app in process (and the auth app, for OAuth requests), and
Debian's Chromium for the browser tests, whose screenshots go to test-artifacts/screenshots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import web_sessions
from axiom_mcp.web.app import create_web_app
from tests.support.browser import chromium as launch_chromium
from tests.support.factories import TestUser
from tests.support.servers import free_port, running
from tests.web.helpers import Screenshots, own_address, sign_in_directly


@pytest.fixture
async def web(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client of the web app (cookies kept, redirects not followed), from its own address."""
    transport = httpx.ASGITransport(app=create_web_app(ctx), client=(own_address(), 50000))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.web_url) as client:
        yield client


@pytest.fixture
async def signed_in(ctx: AppContext, web: httpx.AsyncClient, user: TestUser) -> httpx.AsyncClient:
    """``web`` with ``user`` signed in."""
    await sign_in_directly(ctx, web, user.id)
    return web


@pytest.fixture
async def auth(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    """The auth service (OAuth endpoints), to create authorization requests the real way."""
    transport = httpx.ASGITransport(app=create_auth_app(ctx), client=(own_address(), 50001))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
        yield client


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
SCREENS = {"phone": PHONE, "desktop": DESKTOP}


@dataclass
class Served:
    """The web app on loopback, and Chromium to open it with."""

    ctx: AppContext
    url: str
    chromium: Browser

    async def browser_of(self, user_id: str, screen: str, user_agent: str = "") -> BrowserContext:
        """A JavaScript-off browser at ``screen``'s size, signed in as ``user_id`` (a new session)."""
        async with self.ctx.db.session() as session:
            raw, _ = await web_sessions.create_session(session, user_id, self.ctx.settings.web_session_ttl, user_agent)
        context = await self.chromium.new_context(java_script_enabled=False, viewport=SCREENS[screen])  # type: ignore[arg-type]
        context.set_default_timeout(20_000)
        await context.add_cookies([{"name": "axiom_session", "value": raw, "url": self.url}])
        return context


@pytest.fixture
async def served(ctx: AppContext, chromium: Browser) -> AsyncIterator[Served]:
    port = free_port()
    settings = ctx.settings.model_copy(update={"web_url": f"http://127.0.0.1:{port}"})
    here = AppContext(settings=settings, db=ctx.db)
    async with running(create_web_app(here), port) as url:
        yield Served(here, url, chromium)


SHOTS = pytest.StashKey[list[Path]]()


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium (never a downloaded one), shared by the session's browser tests."""
    async with launch_chromium() as browser:
        yield browser


@pytest.fixture
def screenshots(request: pytest.FixtureRequest, db_kind: str) -> Screenshots:
    folder = request.config.rootpath / "test-artifacts" / "screenshots"
    taken = request.config.stash.setdefault(SHOTS, [])
    return Screenshots(folder, taken, db_kind)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    taken = config.stash.get(SHOTS, [])
    if taken:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(taken)} screenshots in {taken[0].parent}")
