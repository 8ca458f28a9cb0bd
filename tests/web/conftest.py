"""Fixtures of the web tests: the web app in process (and the auth app, for OAuth requests)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.web.app import create_web_app
from tests.support.factories import TestUser
from tests.web.helpers import sign_in_directly, own_address


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
