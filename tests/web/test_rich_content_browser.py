"""Rich text in Chromium (issue 14 item 1), with JavaScript on: the XSS table sent through REST, MCP
(the SDK's client) and the web form never runs on the read view, the edit page (the editor loads
it) or the list; and the editor itself, on a desktop and a phone: type, bold a word, make a
heading, a list and a link, save, and read it back. SQLite and PostgreSQL (the ``ctx`` fixture).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Dialog, Page, expect

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import PageQuery
from axiom_mcp.mcp_server.app import create_mcp_app
from axiom_mcp.settings import SCOPES
from axiom_mcp.web.app import create_web_app
from tests.data.test_content import XSS
from tests.mcp_server.clients import STREAMABLE, connect
from tests.mcp_server.test_tools import ok
from tests.support.factories import TestUser, make_token
from tests.support.servers import free_port, running
from tests.web.helpers import Screenshots
from tests.web.test_browser import DESKTOP, PHONE, log_in

pytestmark = pytest.mark.browser

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""
"""Runs before any page script (injected by the browser, not subject to the page's CSP): any
attempt of injected markup to run script or load something shows up as a CSP violation."""

FINDINGS = """() => {
  const found = [];
  for (const script of document.scripts) {
    if (!script.src || new URL(script.src).origin !== location.origin || !new URL(script.src).pathname.startsWith("/static/")) {
      found.push("script " + (script.src || script.textContent.slice(0, 40)));
    }
  }
  for (const node of document.querySelectorAll("*")) {
    for (const attribute of node.attributes) {
      if (attribute.name.toLowerCase().startsWith("on")) found.push(node.tagName + "[" + attribute.name + "]");
      if (attribute.name.toLowerCase() === "style") found.push(node.tagName + "[style]");
      if (["href", "src", "action", "formaction", "data"].includes(attribute.name.toLowerCase())
          && /^\\s*(javascript|data|vbscript):/i.test(attribute.value)) found.push(node.tagName + "[" + attribute.name + "=" + attribute.value + "]");
    }
  }
  for (const node of document.querySelectorAll(".rich iframe, .rich object, .rich embed, .rich img, .rich svg, .rich math, .rich form, .rich input, .rich style, .rich meta, .rich base, .rich link")) {
    found.push("<" + node.tagName.toLowerCase() + ">");
  }
  return found.concat(window.__violations);
}"""


@dataclass
class Stack:
    ctx: AppContext
    web: str
    auth: str
    mcp: str


@pytest.fixture
async def stack(ctx: AppContext) -> AsyncIterator[Stack]:
    web_port, auth_port, mcp_port = free_port(), free_port(), free_port()
    settings = ctx.settings.model_copy(update={
        "web_url": f"http://127.0.0.1:{web_port}",
        "public_url": f"http://127.0.0.1:{auth_port}",
        "mcp_url": f"http://127.0.0.1:{mcp_port}",
        "mcp_port": mcp_port,
    })
    served = AppContext(settings=settings, db=ctx.db)
    async with AsyncExitStack() as servers:
        web = await servers.enter_async_context(running(create_web_app(served), web_port))
        auth = await servers.enter_async_context(running(create_auth_app(served), auth_port))
        mcp = await servers.enter_async_context(running(create_mcp_app(served), mcp_port))
        yield Stack(ctx=served, web=web, auth=auth, mcp=mcp)


async def scripted(chromium: Browser, viewport: dict[str, int] = DESKTOP) -> BrowserContext:
    context = await chromium.new_context(java_script_enabled=True, viewport=viewport)
    context.set_default_timeout(20_000)
    await context.add_init_script(WATCH)
    return context


async def signed_in_page(context: BrowserContext, stack: Stack, user: TestUser) -> Page:
    page = await context.new_page()
    await page.goto(f"{stack.web}/auth")
    await log_in(page, user.email, user.password)
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


async def test_no_payload_runs_from_any_surface(
    stack: Stack, chromium: Browser, user: TestUser, screenshots: Screenshots
) -> None:
    made: list[str] = []
    # REST, as HTML (its default), and as Markdown.
    rest_token = await make_token(stack.ctx, user.id, list(SCOPES), resource=stack.ctx.settings.api_resource)
    async with httpx.AsyncClient(base_url=stack.auth, headers={"Authorization": f"Bearer {rest_token}"}) as api:
        for at, payload in enumerate(XSS):
            for fmt in ("html", "markdown"):
                response = await api.post("/api/v1/user/items", json={"name": f"rest-{fmt}-{at}", "content": payload,
                                                                         "format": fmt})
                assert response.status_code == 201, response.text
                made.append(response.json()["id"])
    # MCP, through the SDK's client: as Markdown (its default) and as HTML.
    token = await make_token(stack.ctx, user.id, list(SCOPES), resource=stack.ctx.settings.mcp_resource)
    async with connect(stack.mcp, token, STREAMABLE[0]) as client:
        for at, payload in enumerate(XSS):
            made.append((await ok(client, "create_user_item", {"name": f"mcp-md-{at}", "content": payload}))["id"])
            made.append((await ok(client, "create_user_item", {"name": f"mcp-html-{at}", "content": payload,
                                                               "format": "html"}))["id"])
    # The web form without JavaScript: the plain textarea, taking HTML.
    plain = await chromium.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        page = await signed_in_page(plain, stack, user)
        for at, payload in enumerate(XSS):
            await page.goto(f"{stack.web}/items/new")
            await page.get_by_label("Name").fill(f"form-{at}")
            await page.locator("textarea#f-content").fill(payload)
            await page.get_by_role("button", name="Create item").click()
            await expect(page.get_by_role("status")).to_have_text(f"Created “form-{at}”.")
    finally:
        await plain.close()

    dialogs: list[str] = []
    context = await scripted(chromium)
    try:
        page = await signed_in_page(context, stack, user)

        async def opened(dialog: Dialog) -> None:
            dialogs.append(f"{dialog.type}: {dialog.message} at {page.url}")
            await dialog.dismiss()

        page.on("dialog", opened)
        expected = 5 * len(XSS)
        listed: list[str] = []
        for number in range(1, 100):
            await page.goto(f"{stack.web}/items?page={number}")
            assert await page.evaluate(FINDINGS) == [], page.url
            links = await page.locator("a.row-title").evaluate_all("links => links.map(a => a.getAttribute('href'))")
            if not links:
                break
            listed += links
        assert len(listed) == expected
        assert all(href.endswith("/view") for href in listed)
        for href in listed:
            await page.goto(f"{stack.web}{href}")
            assert await page.evaluate(FINDINGS) == [], page.url
            await page.goto(f"{stack.web}{href.removesuffix('/view')}")  # the editor loads the content
            await page.locator(".editor-body").wait_for()
            assert await page.evaluate(FINDINGS) == [], page.url
        await screenshots.save(page, "rich-xss-edit")
        assert dialogs == []
        # The checks themselves see what they look for.
        await page.evaluate("""() => { document.querySelector(".editor-body").setAttribute("onclick", "x"); alert("control"); }""")
        assert "DIV[onclick]" in await page.evaluate(FINDINGS)
        assert len(dialogs) == 1 and dialogs[0].startswith("alert: control")
    finally:
        await context.close()
    assert len(made) == 4 * len(XSS)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_editor_makes_rich_text_a_person_can_read(
    stack: Stack, chromium: Browser, user: TestUser, screenshots: Screenshots, viewport: dict[str, int]
) -> None:
    device = "phone" if viewport is PHONE else "desktop"
    context = await scripted(chromium, viewport)
    try:
        page = await signed_in_page(context, stack, user)
        page.on("dialog", lambda dialog: page.context.pages and dialog.accept("example.com/docs")
                if dialog.type == "prompt" else dialog.dismiss())
        await page.goto(f"{stack.web}/items/new")
        await page.get_by_label("Name").fill("Trip plan")
        editor = page.get_by_role("textbox", name="Content")
        await expect(editor).to_be_visible()
        await expect(page.locator("textarea#f-content")).to_be_hidden()

        await editor.click()
        await page.get_by_role("button", name="Heading", exact=True).click()
        await page.keyboard.type("Packing")
        await page.keyboard.press("Enter")
        await page.keyboard.type("Bring warm socks")
        await page.keyboard.press("Shift+Control+ArrowLeft")  # select "socks"
        await page.get_by_role("button", name="Bold (Ctrl+B)").click()
        await expect(page.get_by_role("button", name="Bold (Ctrl+B)")).to_have_attribute("aria-pressed", "true")
        await page.keyboard.press("End")
        await page.get_by_role("button", name="Bold (Ctrl+B)").click()  # bold off again, as in any editor
        await expect(page.get_by_role("button", name="Bold (Ctrl+B)")).to_have_attribute("aria-pressed", "false")
        await page.keyboard.press("Enter")
        await page.get_by_role("button", name="Bulleted list").click()
        await page.keyboard.type("passport")
        await page.keyboard.press("Enter")
        await page.keyboard.type("tickets")
        await page.keyboard.press("Enter")
        await page.keyboard.press("Enter")  # out of the list
        await page.keyboard.type("Read the docs")
        await page.keyboard.press("Shift+Control+ArrowLeft")  # select "docs"
        await page.get_by_role("button", name="Link (Ctrl+K)").click()
        await expect(editor.locator("a")).to_have_text("docs")
        await screenshots.save(page, f"rich-editor-{device}")
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the editor scrolls sideways by {overflow}px"
        await page.get_by_role("button", name="Create item").click()
        await expect(page.get_by_role("status")).to_have_text("Created “Trip plan”.")

        await expect(page.locator("p.snippet")).to_have_text("Packing Bring warm socks passport tickets Read the docs")
        await page.get_by_role("link", name="Trip plan", exact=True).click()
        shown = page.locator(".rich")
        await expect(shown.locator("h2")).to_have_text("Packing")
        await expect(shown.locator("b, strong")).to_have_text("socks")
        await expect(shown.locator("ul > li")).to_have_text(["passport", "tickets"])
        link = shown.get_by_role("link", name="docs")
        await expect(link).to_have_attribute("href", "https://example.com/docs")
        await expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
        assert await page.evaluate(FINDINGS) == []
        await screenshots.save(page, f"rich-view-{device}")

        # Edit: the editor holds what was saved; an italic word more, and it is kept.
        await page.get_by_role("link", name="Edit", exact=True).click()
        await expect(editor.locator("h2")).to_have_text("Packing")
        await editor.locator("h2").click()
        await page.keyboard.press("End")
        await page.keyboard.type(" list")
        await page.keyboard.press("Shift+Control+ArrowLeft")
        await page.get_by_role("button", name="Italic (Ctrl+I)").click()
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_role("status")).to_have_text("Saved “Trip plan”.")
    finally:
        await context.close()
    [item] = (await records.list_records(ITEMS, stack.ctx.db, user.id, PageQuery())).items
    assert "<h2>Packing <i>list</i></h2>" in item.content, item.content
    assert item.excerpt == "Packing list Bring warm socks passport tickets Read the docs"
