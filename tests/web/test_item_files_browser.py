"""Attaching files in Chromium with JavaScript on (uploads.js under the page's CSP): several files
picked at once, a file dropped on the form, a progress bar per file, a refused file's message
beside it, then the list. Screenshots go to test-artifacts/screenshots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, Page, expect

from axiom_mcp.context import AppContext
from axiom_mcp.data import files, web_sessions
from axiom_mcp.web.app import create_web_app
from tests.support.factories import make_user
from tests.support.servers import free_port, running
from tests.web.helpers import Screenshots
from tests.web.test_browser import DESKTOP
from tests.web.test_item_files_pages import _item

pytestmark = pytest.mark.browser


@dataclass
class Signed:
    ctx: AppContext
    page: Page
    user_id: str
    errors: list[str]


@pytest.fixture
async def signed(ctx: AppContext, chromium: Browser) -> AsyncIterator[Signed]:
    """The web app on loopback with 1,000-byte files, and a JavaScript-on browser signed in to it."""
    port = free_port()
    settings = ctx.settings.model_copy(update={"web_url": f"http://127.0.0.1:{port}", "max_file_size": 1000})
    served = AppContext(settings=settings, db=ctx.db)
    user = await make_user(ctx)
    async with ctx.db.session() as session:
        raw, _ = await web_sessions.create_session(session, user.id, settings.web_session_ttl)
    async with running(create_web_app(served), port) as url:
        context = await chromium.new_context(java_script_enabled=True, viewport=DESKTOP)
        context.set_default_timeout(20_000)
        await context.add_cookies([{"name": "axiom_session", "value": raw, "url": url}])
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))  # a script error
        page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
                if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
        try:
            yield Signed(served, page, user.id, errors)
        finally:
            await context.close()


async def test_pick_several_files_and_drop_one(signed: Signed, screenshots: Screenshots) -> None:
    page, ctx = signed.page, signed.ctx
    item = await _item(ctx, signed.user_id)
    await page.goto(f"{ctx.settings.web_url}/items/{item}")
    await expect(page.get_by_text("Or drop files here.")).to_be_visible()  # the script runs under the CSP

    await page.get_by_label("Add files").set_input_files([
        {"name": "one.txt", "mimeType": "text/plain", "buffer": b"first file"},
        {"name": "two.txt", "mimeType": "text/plain", "buffer": b"second file"},
    ])
    await page.get_by_role("button", name="Upload").click()
    table = page.locator("table.files")
    await expect(table).to_contain_text("one.txt")  # the page reloads once both are in
    await expect(table).to_contain_text("two.txt")

    transfer = await page.evaluate_handle("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["dropped bytes"], "dropped.txt", {type: "text/plain"}));
        return data;
    }""")
    await page.dispatch_event(".dropzone", "drop", {"dataTransfer": transfer})
    await expect(table).to_contain_text("dropped.txt")
    await screenshots.save(page, "item-files")

    async with ctx.db.session() as session:
        listed = await files.list_files(session, signed.user_id, item)
    assert [(f.name, f.size) for f in listed] == [("one.txt", 10), ("two.txt", 11), ("dropped.txt", 13)]
    assert signed.errors == []


async def test_each_file_has_its_progress_and_a_refused_one_says_why(signed: Signed, screenshots: Screenshots) -> None:
    page, ctx = signed.page, signed.ctx
    item = await _item(ctx, signed.user_id)
    await page.goto(f"{ctx.settings.web_url}/items/{item}")
    await page.get_by_label("Add files").set_input_files([
        {"name": "fine.txt", "mimeType": "text/plain", "buffer": b"x" * 900},
        {"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"y" * 1001},
        {"name": "\u202eexe.txt", "mimeType": "text/plain", "buffer": b"z"},
    ])
    await page.get_by_role("button", name="Upload").click()
    rows = page.locator(".upload-progress li")
    await expect(rows.nth(0)).to_contain_text("Uploaded.")
    await expect(rows.nth(0).locator("progress")).to_have_attribute("value", "100")
    await expect(rows.nth(1)).to_contain_text("Larger than 1000 bytes: not uploaded.")  # checked before sending
    await expect(rows.nth(2)).to_contain_text("control or invisible formatting characters")  # the server's word
    await screenshots.save(page, "item-files-progress")
    await page.get_by_role("link", name="Show the files").click()
    await expect(page.locator("table.files")).to_contain_text("fine.txt")
    async with ctx.db.session() as session:
        assert [f.name for f in await files.list_files(session, signed.user_id, item)] == ["fine.txt"]
    assert signed.errors == [f"400 {ctx.settings.web_url}/items/{item}/files"]  # the refused name; nothing else
