"""Search, tag chips and sort on the items list in Chromium, JavaScript off, on a phone (390 px):
a chip filters the list by its tag, the filter shows and comes off, a search keeps it, the sort
select orders the list, and the read view's chips filter too. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS, TAGS
from axiom_mcp.data.schemas import ItemCreate, TagCreate
from axiom_mcp.web.app import create_web_app
from tests.support.factories import TestUser
from tests.support.servers import free_port, running
from tests.web.helpers import Screenshots
from tests.web.test_browser import PHONE, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
async def web(ctx: AppContext) -> AsyncIterator[str]:
    port = free_port()
    settings = ctx.settings.model_copy(update={"web_url": f"http://127.0.0.1:{port}"})
    served = AppContext(settings=settings, db=ctx.db)
    async with running(create_web_app(served), port) as url:
        yield url


async def _titles(page: Page) -> list[str]:
    return [t.strip() for t in await page.locator(".records .row-title").all_inner_texts()]


async def _fits(page: Page) -> None:
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"


async def test_chips_filter_search_keeps_the_filter_and_sort_orders(
    ctx: AppContext, web: str, chromium: Browser, user: TestUser, screenshots: Screenshots
) -> None:
    async with ctx.db.session() as session:
        work = (await records.create_record(TAGS, session, user.id, TagCreate(name="Work"))).id
        home = (await records.create_record(TAGS, session, user.id, TagCreate(name="home"))).id
        for name, tags, content in (("Budget review", [work], "numbers"), ("Émoji notes", [work, home], "faces"),
                                    ("Garden", [home], "plants and émoji")):
            await records.create_record(ITEMS, session, user.id, ItemCreate(name=name, tags=tags, content=content))
    context = await chromium.new_context(java_script_enabled=False, viewport=PHONE)
    context.set_default_timeout(20_000)
    try:
        page = await context.new_page()
        await page.goto(f"{web}/auth")
        await log_in(page, user.email, user.password)
        await page.goto(f"{web}/items")
        assert await _titles(page) == ["Garden", "Émoji notes", "Budget review"]

        await page.locator(".records li", has_text="Budget review").get_by_role("link", name="Work").click()
        await expect(page).to_have_url(re.compile(r"/items\?tag=Work$"))
        assert await _titles(page) == ["Émoji notes", "Budget review"]
        await expect(page.locator(".filter")).to_contain_text("tagged Work")
        await _fits(page)
        await screenshots.save(page, "items-tag-filter-phone")

        await page.get_by_label("Search names, text, tags and files").fill("EMOJI")
        await page.get_by_role("button", name="Search").click()
        assert await _titles(page) == ["Émoji notes"]  # the search kept the tag
        await page.get_by_role("link", name="Show items with any tag").click()
        assert await _titles(page) == ["Émoji notes", "Garden"]  # the name first, then the text
        await expect(page.get_by_label("Order")).to_have_value("")

        await page.get_by_label("Order").select_option("name")
        await page.get_by_role("button", name="Search").click()
        assert await _titles(page) == ["Émoji notes", "Garden"]
        await page.get_by_role("link", name="Clear").click()
        await page.get_by_label("Order").select_option("name")
        await page.get_by_role("button", name="Search").click()
        assert await _titles(page) == ["Budget review", "Émoji notes", "Garden"]
        await _fits(page)
        await screenshots.save(page, "items-sorted-phone")

        await page.get_by_role("link", name="Garden", exact=True).click()
        await page.locator(".read-card").get_by_role("link", name="home").click()
        await expect(page).to_have_url(re.compile(r"/items\?tag=home$"))
        assert await _titles(page) == ["Garden", "Émoji notes"]
        await _fits(page)
    finally:
        await context.close()
