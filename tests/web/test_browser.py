"""The pages in a real browser (Debian's Chromium, JavaScript off): sign up, log in, consent to a real
authorization request (Allow and Deny), disconnect the app, and create, edit and delete one of each
kind. Screenshots of every main page go to test-artifacts/screenshots (printed at the end of the run).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.access import connection_view
from axiom_mcp.data.kinds import ITEMS, TAGS
from axiom_mcp.data.schemas import ItemCreate, TagCreate
from axiom_mcp.oauth.pkce import s256
from axiom_mcp.web.app import create_web_app
from tests.support.factories import TestUser
from tests.support.servers import free_port, running
from tests.web.conftest import DESKTOP, PHONE
from tests.web.helpers import Screenshots

pytestmark = pytest.mark.browser



@dataclass
class Stack:
    """The auth service, the web app and an OAuth client's callback, on loopback ports."""

    ctx: AppContext
    web: str
    auth: str
    callback: str
    received: list[dict[str, str]] = field(default_factory=list)
    """The query of every request the callback got (what the browser brought back)."""


@pytest.fixture
async def stack(ctx: AppContext) -> AsyncIterator[Stack]:
    web_port, auth_port = free_port(), free_port()
    settings = ctx.settings.model_copy(update={
        "web_url": f"http://127.0.0.1:{web_port}",
        "public_url": f"http://127.0.0.1:{auth_port}",
    })
    served = AppContext(settings=settings, db=ctx.db)
    received: list[dict[str, str]] = []

    async def callback(request: Request) -> HTMLResponse:
        received.append(dict(request.query_params))
        return HTMLResponse("<!doctype html><title>Callback</title><p>Back at the app.</p>")

    async def framing(request: Request) -> HTMLResponse:
        target = request.query_params["src"]
        return HTMLResponse(f'<!doctype html><title>Evil</title><h1>Win a prize</h1><iframe src="{target}" width="600" height="400"></iframe>')

    client_app = Starlette(routes=[Route("/callback", callback), Route("/frame", framing)])
    async with AsyncExitStack() as servers:
        web = await servers.enter_async_context(running(create_web_app(served), web_port))
        auth = await servers.enter_async_context(running(create_auth_app(served), auth_port))
        other = await servers.enter_async_context(running(client_app))
        yield Stack(ctx=served, web=web, auth=auth, callback=f"{other}/callback", received=received)


@pytest.fixture
async def context(chromium: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile with JavaScript off: every page must work without it."""
    context = await chromium.new_context(java_script_enabled=False, viewport=DESKTOP)
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        await context.close()


async def log_in(page: Page, email: str, password: str) -> None:
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def phone_shot(chromium: Browser, page: Page, screenshots: Screenshots, name: str) -> None:
    """The same page, same cookies, on a phone-sized screen; nothing may overflow sideways."""
    state = await page.context.storage_state()
    phone = await chromium.new_context(java_script_enabled=False, viewport=PHONE, storage_state=state)
    try:
        other = await phone.new_page()
        await other.goto(page.url)
        overflow = await other.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways on a phone by {overflow}px"
        await screenshots.save(other, f"{name}-phone")
    finally:
        await phone.close()


async def register(stack: Stack, name: str) -> str:
    async with httpx.AsyncClient(base_url=stack.auth) as client:
        response = await client.post("/oauth/register", json={
            "client_name": name, "redirect_uris": [stack.callback], "token_endpoint_auth_method": "none"})
    assert response.status_code == 201, response.text
    return str(response.json()["client_id"])


def authorize_url(stack: Stack, client_id: str, verifier: str, state: str, **extra: str) -> str:
    query = urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": stack.callback,
        "code_challenge": s256(verifier), "code_challenge_method": "S256", "state": state,
        "scope": "profile:read items:read items:write tags:read offline_access", **extra,
    })
    return f"{stack.auth}/oauth/authorize?{query}"


async def test_sign_up_sign_out_and_log_in_with_the_keyboard(
    stack: Stack, context: BrowserContext, chromium: Browser, screenshots: Screenshots
) -> None:
    page = await context.new_page()
    await page.goto(f"{stack.web}/")
    await expect(page).to_have_url(f"{stack.web}/auth")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await screenshots.save(page, "login")
    await phone_shot(chromium, page, screenshots, "login")

    await page.get_by_role("link", name="Create an account").click()
    email, password = f"maria-{secrets.token_hex(4)}@example.com", "a long pass phrase"
    await page.get_by_label("Your name").fill("Maria")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await screenshots.save(page, "signup")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Hello, Maria")).to_be_visible()
    await expect(page.get_by_role("status")).to_have_text("Welcome to Axiom. Your account is ready.")

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{stack.web}/auth?notice=signed_out")
    await expect(page.get_by_role("status")).to_have_text("You are signed out.")

    # Wrong password first: the message is shown, the email kept, the password focused.
    await log_in(page, email, "not my password")
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    # Then by keyboard alone: the email is focused on arrival, Tab moves on, Enter submits.
    await page.goto(f"{stack.web}/auth")
    await expect(page.get_by_label("Email")).to_be_focused()
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Password")).to_be_focused()
    await page.keyboard.type(password)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Hello, Maria")).to_be_visible()


async def test_consent_allow_then_deny_then_disconnect(
    stack: Stack, context: BrowserContext, chromium: Browser, screenshots: Screenshots, user: TestUser
) -> None:
    client_id = await register(stack, "Claude")
    verifier = secrets.token_urlsafe(48)
    page = await context.new_page()

    # The app sends the browser to the auth service, which sends it to the consent page: not signed
    # in, so first the login page, and back.
    await page.goto(authorize_url(stack, client_id, verifier, "first"))
    await expect(page.get_by_text("Sign in to continue connecting an app")).to_be_visible()
    await log_in(page, user.email, user.password)
    await expect(page).to_have_url(re.compile(rf"^{re.escape(stack.web)}/oauth/consent\?request_id=axar_"))
    heading = page.get_by_role("heading", name="Claude wants to use your Axiom account")
    await expect(heading).to_be_visible()
    await expect(page.get_by_text("Unverified app.")).to_be_visible()
    await expect(page.locator(".redirect-host")).to_have_text(urlsplit(stack.callback).netloc)
    await expect(page.get_by_text("Create, change and delete your items")).to_be_visible()
    await expect(page.get_by_text("Stay connected when you are away")).to_be_visible()
    await screenshots.save(page, "consent")
    await phone_shot(chromium, page, screenshots, "consent")

    await page.get_by_role("button", name="Allow").click()
    await expect(page.get_by_text("Back at the app.")).to_be_visible()
    allowed = stack.received[-1]
    assert allowed["state"] == "first" and allowed["iss"] == stack.ctx.settings.issuer and allowed["code"]
    async with httpx.AsyncClient(base_url=stack.auth) as client:
        tokens = await client.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": allowed["code"], "client_id": client_id,
            "code_verifier": verifier, "redirect_uri": stack.callback})
    assert tokens.status_code == 200, tokens.text
    access = tokens.json()["access_token"]
    assert await stack.ctx.tokens.verify(access) is not None

    # A second request, answered with Deny: the app hears access_denied, and no code.
    await page.goto(authorize_url(stack, client_id, secrets.token_urlsafe(48), "second"))
    await expect(page.get_by_role("button", name="Deny")).to_be_visible()
    await page.get_by_role("button", name="Deny").click()
    await expect(page.get_by_text("Back at the app.")).to_be_visible()
    denied = stack.received[-1]
    assert denied["error"] == "access_denied" and denied["state"] == "second" and "code" not in denied

    # Connected apps lists the allowed app; Disconnect ends its token at once.
    await page.goto(f"{stack.web}/apps")
    card = page.locator("li.card.app", has_text="Claude")
    await expect(card).to_be_visible()
    await expect(card.get_by_text("Unverified")).to_be_visible()
    await expect(card.locator(".app-access").get_by_text("Read your items")).to_be_visible()
    await expect(card.locator(".app-sees")).to_have_text("All your items")
    await screenshots.save(page, "connected-apps")
    await phone_shot(chromium, page, screenshots, "connected-apps")
    await card.get_by_role("link", name="Disconnect Claude…").click()  # one more step, never one tap
    await expect(page.get_by_role("heading", name="Disconnect Claude?")).to_be_visible()
    assert await stack.ctx.tokens.verify(access) is not None  # nothing happened yet
    await page.get_by_role("button", name="Disconnect Claude").click()
    await expect(page.get_by_role("status")).to_have_text("Disconnected Claude. It can no longer reach your data.")
    await expect(page.get_by_text("No apps are connected.")).to_be_visible()
    assert await stack.ctx.tokens.verify(access) is None


async def test_on_a_phone_the_person_grants_less_and_restricts_the_app_to_tagged_items(
    stack: Stack, chromium: Browser, screenshots: Screenshots, user: TestUser
) -> None:
    async with stack.ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        await records.create_record(TAGS, session, user.id, TagCreate(name="journal"))
        await records.create_record(ITEMS, session, user.id, ItemCreate(name="Plan", tags=[work.id]))
    client_id = await register(stack, "Pocket agent")
    verifier = secrets.token_urlsafe(48)
    phone = await chromium.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = await phone.new_page()
        await page.goto(authorize_url(stack, client_id, verifier, "phone"))
        await log_in(page, user.email, user.password)
        await expect(page.get_by_role("heading", name="Pocket agent wants to use your Axiom account")).to_be_visible()
        # Everything it asked for is ticked, and it would see all items; the choice is one tap away.
        write = page.get_by_role("checkbox", name="Create, change and delete your items")
        await expect(write).to_be_checked()
        summary = page.locator(".sees-now:visible")
        await expect(summary).to_have_text("All your items")
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the consent page scrolls sideways on a phone by {overflow}px"
        await write.uncheck()
        await page.get_by_role("checkbox", name="Stay connected when you are away").uncheck()
        await page.locator(".sees summary").click()
        await page.get_by_role("radio", name=re.compile("in a new profile named")).check()
        await expect(summary).to_have_text("Only items with the tags you pick")  # follows the choice, no script
        await page.get_by_role("checkbox", name="work").check()
        await screenshots.save(page, "consent-choices-phone")
        await page.get_by_role("button", name="Allow").click()
        await expect(page.get_by_text("Back at the app.")).to_be_visible()
        code = stack.received[-1]["code"]
        async with httpx.AsyncClient(base_url=stack.auth) as client:
            tokens = await client.post("/oauth/token", data={
                "grant_type": "authorization_code", "code": code, "client_id": client_id,
                "code_verifier": verifier, "redirect_uri": stack.callback})
        assert tokens.json()["scope"] == "profile:read items:read tags:read"
        async with stack.ctx.db.session() as session:
            view = await connection_view(session, user.id, client_id)
        assert view.access_tags == frozenset({work.id})

        # Connected apps shows it, and takes reading tags away too.
        await page.goto(f"{stack.web}/apps")
        card = page.locator("li.card.app", has_text="Pocket agent")
        await expect(card.locator(".profile-name")).to_have_text("Pocket agent")
        await expect(card.locator(".profile-count")).to_have_text("1 item")
        await card.get_by_text("Change what it sees and does").click()
        await card.get_by_role("checkbox", name="Read your tags").uncheck()
        await screenshots.save(page, "connected-apps-change-phone")
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"Connected apps scrolls sideways on a phone by {overflow}px"
        await card.get_by_role("button", name="Save for Pocket agent").click()
        await expect(page.get_by_role("status")).to_have_text(
            "Saved. Pocket agent's next call sees and does only what you chose.")
        info = await stack.ctx.tokens.verify(tokens.json()["access_token"])
        assert info is not None and info.scopes == {"profile:read", "items:read"}
    finally:
        await phone.close()


async def test_prompt_login_asks_a_signed_in_user_again_then_consents(
    stack: Stack, context: BrowserContext, screenshots: Screenshots, user: TestUser
) -> None:
    client_id = await register(stack, "Claude")
    page = await context.new_page()
    await page.goto(f"{stack.web}/auth")
    await log_in(page, user.email, user.password)
    await expect(page).to_have_url(f"{stack.web}/")

    # Without prompt the signed-in user goes straight to consent.
    await page.goto(authorize_url(stack, client_id, secrets.token_urlsafe(48), "plain"))
    await expect(page.get_by_role("button", name="Allow")).to_be_visible()

    # With prompt=login: the login page first, although signed in, then consent for the same request.
    verifier = secrets.token_urlsafe(48)
    await page.goto(authorize_url(stack, client_id, verifier, "relogin", prompt="login"))
    await expect(page.get_by_text("asked that you sign in again")).to_be_visible()
    await expect(page.get_by_label("Email")).to_have_value(user.email)
    await screenshots.save(page, "relogin")
    asked = re.search(r"request_id%3D(axar_[^&%]+)", page.url)
    assert asked, page.url
    await log_in(page, user.email, user.password)
    await expect(page).to_have_url(f"{stack.web}/oauth/consent?request_id={asked.group(1)}")
    await page.get_by_role("button", name="Allow").click()
    await expect(page.get_by_text("Back at the app.")).to_be_visible()
    back = stack.received[-1]
    assert back["state"] == "relogin" and back["code"]
    async with httpx.AsyncClient(base_url=stack.auth) as client:
        tokens = await client.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": back["code"], "client_id": client_id,
            "code_verifier": verifier, "redirect_uri": stack.callback})
    assert tokens.status_code == 200, tokens.text


async def test_create_edit_and_delete_one_of_each_kind(
    stack: Stack, context: BrowserContext, chromium: Browser, screenshots: Screenshots, user: TestUser
) -> None:
    page = await context.new_page()
    await page.goto(f"{stack.web}/auth")
    await log_in(page, user.email, user.password)
    await expect(page.get_by_role("heading", name="Hello, Ann")).to_be_visible()

    nav = page.get_by_role("navigation", name="Main")
    # A tag first: items and clients pick from the user's tags.
    await nav.get_by_role("link", name="Tags").click()
    await expect(page.get_by_text("No tags yet.")).to_be_visible()
    await page.get_by_role("link", name="New tag").first.click()
    await page.get_by_label("Name").fill("Research")
    await page.get_by_role("button", name="Create tag").click()
    await expect(page.get_by_role("status")).to_have_text("Created “Research”.")
    await page.get_by_role("link", name="New tag").click()
    await page.get_by_label("Name").fill("Clients only")
    await page.get_by_role("button", name="Create tag").click()

    await nav.get_by_role("link", name="Clients").click()
    await page.get_by_role("link", name="New client").first.click()
    await page.get_by_label("Name").fill("Acme Corp")
    await page.get_by_label("Clients only").check()
    await page.get_by_role("button", name="Create client").click()
    await expect(page.locator(".records li", has_text="Acme Corp").get_by_text("Clients only")).to_be_visible()

    await nav.get_by_role("link", name="Items").click()
    await page.get_by_role("link", name="New item").first.click()
    await page.get_by_label("Name").fill("Interview notes")
    await page.get_by_label("Content").fill("Talked to five users.\nAll want dark mode.")
    await page.get_by_label("Research").check()
    await screenshots.save(page, "item-form")
    await page.get_by_role("button", name="Create item").click()
    row = page.locator(".records li", has_text="Interview notes")
    await expect(row.get_by_text("Research")).to_be_visible()
    await screenshots.save(page, "items")
    await phone_shot(chromium, page, screenshots, "items")

    # Edit each one.
    for section, old, new in [("Items", "Interview notes", "Interview notes (May)"),
                              ("Clients", "Acme Corp", "Acme Corporation"),
                              ("Tags", "Research", "User research")]:
        await nav.get_by_role("link", name=section).click()
        await page.get_by_role("link", name=f"Edit {old}", exact=True).click()
        await page.get_by_label("Name").fill(new)
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_role("status")).to_have_text(f"Saved “{new}”.")
        await expect(page.get_by_role("link", name=new, exact=True)).to_be_visible()

    # Search finds by content.
    await nav.get_by_role("link", name="Items").click()
    await page.get_by_role("searchbox").fill("dark mode")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_text("1 item matching “dark mode”")).to_be_visible()

    await nav.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("link", name="Interview notes (May)")).to_be_visible()
    await expect(page.get_by_text("User research")).to_be_visible()
    await screenshots.save(page, "dashboard")
    await phone_shot(chromium, page, screenshots, "dashboard")
    await nav.get_by_role("link", name="Account").click()
    await screenshots.save(page, "account")

    # Delete each one, confirming.
    for section, name, one in [("Items", "Interview notes (May)", "item"), ("Clients", "Acme Corporation", "client"),
                               ("Tags", "User research", "tag")]:
        await nav.get_by_role("link", name=section).click()
        await page.get_by_role("link", name=f"Delete {name}").click()
        await expect(page.get_by_role("heading", name=f"Delete this {one}?")).to_be_visible()
        await page.get_by_role("button", name=f"Delete {one}").click()
        await expect(page.get_by_role("status")).to_contain_text(f"Deleted “{name}”.")
        await expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)


async def test_another_site_cannot_frame_the_pages(stack: Stack, context: BrowserContext) -> None:
    page = await context.new_page()
    frame_host = stack.callback.removesuffix("/callback")
    # The control: a page without our headers does render in the same frame.
    await page.goto(f"{frame_host}/frame?{urlencode({'src': stack.callback})}")
    await expect(page.frame_locator("iframe").get_by_text("Back at the app.")).to_be_visible()
    for path in ("/auth", "/oauth/consent?request_id=x", "/"):
        await page.goto(f"{frame_host}/frame?{urlencode({'src': stack.web + path})}")
        await expect(page.get_by_role("heading", name="Win a prize")).to_be_visible()
        frame = page.frames[1]
        await frame.wait_for_load_state()
        content = await frame.content()
        assert "Sign in" not in content and "csrf_token" not in content, content[:300]
        assert not frame.url.startswith(stack.web), frame.url


async def test_the_dashboard_shows_how_to_connect_an_ai_app_and_copies_the_mcp_url(
    stack: Stack, chromium: Browser, user: TestUser, screenshots: Screenshots
) -> None:
    mcp_url = stack.ctx.settings.mcp_resource
    scripted = await chromium.new_context(viewport=DESKTOP)  # JavaScript on: the Copy button appears
    await scripted.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.web)
    try:
        page = await scripted.new_page()
        await page.goto(f"{stack.web}/auth")
        await log_in(page, user.email, user.password)
        connect = page.get_by_role("region", name="Connect an AI app")
        await expect(connect).to_be_visible()
        await expect(connect.get_by_label("MCP server URL")).to_have_value(mcp_url)
        for app in ("ChatGPT", "Claude (claude.ai and the desktop app)", "Claude Code", "Cursor", "VS Code (GitHub Copilot)"):
            await expect(connect.locator("summary", has_text=app)).to_be_visible()
        await connect.get_by_role("button", name="Copy").click()
        await expect(connect.get_by_role("button", name="Copied")).to_be_visible()
        assert await page.evaluate("navigator.clipboard.readText()") == mcp_url
        await screenshots.save(page, "dashboard-connect")
        await phone_shot(chromium, page, screenshots, "dashboard-connect")

        await page.goto(f"{stack.web}/apps")  # no app connected yet: the same guide there
        await expect(page.get_by_role("region", name="Connect an AI app")).to_be_visible()
    finally:
        await scripted.close()


async def test_on_a_phone_the_sections_fold_behind_menu_and_times_follow_the_browsers_zone(
    stack: Stack, chromium: Browser, screenshots: Screenshots
) -> None:
    phone = await chromium.new_context(viewport=PHONE, timezone_id="Asia/Tokyo")  # JavaScript on
    try:
        page = await phone.new_page()
        await page.goto(f"{stack.web}/auth/signup")
        await page.get_by_label("Your name").fill("Kenji")
        await page.get_by_label("Email").fill(f"kenji-{secrets.token_hex(4)}@example.com")
        await page.get_by_label("Password").fill("a long pass phrase")
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_role("heading", name="Hello, Kenji")).to_be_visible()
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav).to_be_hidden()
        await page.get_by_text("Menu", exact=True).click()
        await expect(nav.get_by_role("link", name="Connected apps")).to_be_visible()
        await screenshots.save(page, "phone-menu-open")
        await nav.get_by_role("link", name="Account").click()
        await expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
        await expect(page.get_by_text("Member since")).to_be_visible()
        assert await page.locator("#f-timezone").input_value() == "Asia/Tokyo"
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the account page scrolls sideways on a phone by {overflow}px"
    finally:
        await phone.close()
