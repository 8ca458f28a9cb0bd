"""End-to-end fixtures: Debian's Chromium through Playwright, and accounts made with the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from tests.support.browser import chromium


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched
