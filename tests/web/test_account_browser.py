"""Forgot password, address confirmation and change of address in Chromium (JavaScript off),
against real servers on loopback, with a real SMTP server receiving the mail whose links the
browser then follows. Screenshots go to test-artifacts/screenshots."""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect
from pydantic import SecretStr

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.oauth.consents import record_consent
from axiom_mcp.web.app import create_web_app
from tests.support.factories import TestUser, make_token
from tests.support.servers import free_port, running
from tests.support.smtp import Mailbox, link_in, smtp_server, text_of
from tests.web.helpers import Screenshots, csrf_of
from tests.web.test_browser import DESKTOP, log_in, phone_shot

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new pass phrase"


@dataclass
class MailStack:
    ctx: AppContext
    web: str
    auth: str
    mailbox: Mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
async def stack(ctx: AppContext, mailbox: Mailbox) -> AsyncIterator[MailStack]:
    web_port, auth_port = free_port(), free_port()
    settings = ctx.settings.model_copy(update={
        "web_url": f"http://127.0.0.1:{web_port}",
        "public_url": f"http://127.0.0.1:{auth_port}",
        "smtp_url": SecretStr(mailbox.url),
        "signup_rate_limit": 1000,  # every browser comes from 127.0.0.1
    })
    served = AppContext(settings=settings, db=ctx.db)
    async with AsyncExitStack() as servers:
        web = await servers.enter_async_context(running(create_web_app(served), web_port))
        auth = await servers.enter_async_context(running(create_auth_app(served), auth_port))
        yield MailStack(ctx=served, web=web, auth=auth, mailbox=mailbox)


async def _browser(chromium: Browser) -> BrowserContext:
    context = await chromium.new_context(java_script_enabled=False, viewport=DESKTOP)
    context.set_default_timeout(20_000)
    return context


@pytest.fixture
async def context(chromium: Browser) -> AsyncIterator[BrowserContext]:
    context = await _browser(chromium)
    try:
        yield context
    finally:
        await context.close()


def fresh_email() -> str:
    return f"pat-{secrets.token_hex(4)}@example.com"


async def test_forgot_password_end_to_end(
    stack: MailStack, context: BrowserContext, chromium: Browser, screenshots: Screenshots, user: TestUser
) -> None:
    # Signed in elsewhere, in a browser and with an API token: both must die with the reset. A
    # connected app is offered for disconnection.
    client_id = f"claude-{user.id}"
    async with stack.ctx.db.session() as session:
        await record_consent(session, user.id, client_id, ["items:read"])
    app_token = await make_token(stack.ctx, user.id, ["items:read"], client_id=client_id)
    elsewhere = await _browser(chromium)
    other = await elsewhere.new_page()
    await other.goto(f"{stack.web}/auth")
    await log_in(other, user.email, user.password)
    await expect(other).to_have_url(f"{stack.web}/")
    async with httpx.AsyncClient(base_url=stack.auth) as api:
        login = await api.post("/api/v1/auth/login", json={"email": user.email, "password": user.password})
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}
        assert (await api.get("/api/v1/user/profile", headers=bearer)).status_code == 200

        page = await context.new_page()
        await page.goto(f"{stack.web}/auth")
        await page.get_by_role("link", name="Forgot your password?").click()
        await expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        await screenshots.save(page, "forgot")
        await page.get_by_label("Email").fill(user.email)
        await page.get_by_role("button", name="Send me a link").click()
        await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        await screenshots.save(page, "forgot-sent")

        link = link_in(await stack.mailbox.wait_for(user.email))
        assert link.startswith(f"{stack.web}/auth/reset?token=axol_")
        await page.goto(link)
        await expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
        await screenshots.save(page, "reset")
        await phone_shot(chromium, page, screenshots, "reset")
        await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        await page.get_by_label("New password again").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Set password").click()

        # At once: the other browser is signed out, the API token refused; the app still connected.
        assert (await api.get("/api/v1/user/profile", headers=bearer)).status_code == 401
        assert await stack.ctx.tokens.verify(app_token) is not None
        await expect(page.get_by_role("heading", name="Disconnect your apps too?")).to_be_visible()
        await expect(page.locator("main li")).to_have_text([client_id])
        await screenshots.save(page, "disconnect-all")
        await page.get_by_role("button", name="Disconnect all").click()
        await expect(page.get_by_role("status")).to_have_text("Disconnected. The app can no longer reach your data.")
        assert await stack.ctx.tokens.verify(app_token) is None
    await other.goto(f"{stack.web}/account")
    await expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    await log_in(other, user.email, user.password)
    await expect(other.get_by_role("alert")).to_have_text("Wrong email or password.")
    await log_in(other, user.email, NEW_PASSWORD)
    await expect(other).to_have_url(f"{stack.web}/account")
    await elsewhere.close()

    # The link worked once.
    await page.goto(link)
    await expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()


async def test_an_unknown_address_gets_the_same_page_in_the_same_time(
    stack: MailStack, context: BrowserContext, user: TestUser
) -> None:
    page = await context.new_page()
    seen = {}
    for email in (user.email, fresh_email()):
        await page.goto(f"{stack.web}/auth/forgot")
        await page.get_by_label("Email").fill(email)
        await page.get_by_role("button", name="Send me a link").click()
        seen[email] = (await page.locator("main").inner_text()).replace(email, "EMAIL")
    assert len(set(seen.values())) == 1
    await stack.mailbox.wait_for(user.email)
    assert len(stack.mailbox.messages) == 1

    async def timed(email: str, client: httpx.AsyncClient) -> float:
        form = await client.get("/auth/forgot")
        started = time.perf_counter()
        response = await client.post("/auth/forgot", data={"csrf_token": csrf_of(form), "email": email})
        assert response.status_code == 200
        return time.perf_counter() - started

    async with httpx.AsyncClient(base_url=stack.web, headers={"Origin": stack.web}) as client:
        known = statistics.median([await timed(user.email, client) for _ in range(5)])
        unknown = statistics.median([await timed(fresh_email(), client) for _ in range(5)])
    assert max(known, unknown) < 10 * min(known, unknown), (known, unknown)


async def test_sign_up_then_confirm_the_address_from_the_mail(
    stack: MailStack, context: BrowserContext, chromium: Browser, screenshots: Screenshots
) -> None:
    email = fresh_email()
    page = await context.new_page()
    await page.goto(f"{stack.web}/auth/signup")
    await page.get_by_label("Your name").fill("Pat")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("a long pass phrase")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Hello, Pat")).to_be_visible()
    first = await stack.mailbox.wait_for(email)

    await page.goto(f"{stack.web}/account")
    await expect(page.locator(".badge", has_text="Not confirmed")).to_be_visible()
    await expect(page.get_by_text("Email verified")).to_have_count(0)
    await screenshots.save(page, "account-unconfirmed")
    await phone_shot(chromium, page, screenshots, "account-unconfirmed")
    await page.get_by_role("button", name="Resend the link").click()
    await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    second = await stack.mailbox.wait_for(email, count=2)
    assert "Pat" in text_of(second)

    await page.goto(link_in(second))
    await expect(page.get_by_role("heading", name="Email confirmed")).to_be_visible()
    await page.get_by_role("link", name="Go to your account").click()
    await expect(page.locator(".badge", has_text="Verified")).to_be_visible()
    await expect(page.get_by_role("button", name="Resend the link")).to_have_count(0)
    await screenshots.save(page, "account-verified")
    # The earlier link is still a valid one-time link for the same address; it confirms nothing new.
    await page.goto(link_in(first))
    await expect(page.get_by_role("heading", name="Email confirmed")).to_be_visible()
    await page.goto(link_in(first))
    await expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()


async def test_change_the_email_confirmed_from_the_new_address_and_told_to_the_old(
    stack: MailStack, context: BrowserContext, chromium: Browser, screenshots: Screenshots, user: TestUser
) -> None:
    page = await context.new_page()
    await page.goto(f"{stack.web}/auth?return_to=%2Faccount")
    await log_in(page, user.email, user.password)
    await expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    new = fresh_email()
    await page.get_by_label("New email").fill(new)
    await page.get_by_label("Your password").fill(user.password)
    await page.get_by_role("button", name="Send a confirmation link").click()
    await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    await expect(page.locator("main")).to_contain_text(f"until then you sign in with {user.email}")

    await page.goto(link_in(await stack.mailbox.wait_for(new)))
    await expect(page.get_by_role("heading", name="Use this email address?")).to_be_visible()
    await screenshots.save(page, "email-confirm")
    await phone_shot(chromium, page, screenshots, "email-confirm")
    await page.get_by_role("button", name="Change my email").click()
    await expect(page.get_by_role("heading", name="Email changed")).to_be_visible()

    notice = await stack.mailbox.wait_for(user.email)
    assert notice["Subject"] == "Your Axiom email address was changed" and new in text_of(notice)
    await page.goto(f"{stack.web}/account")
    await expect(page.locator("dd", has_text=new)).to_contain_text("Verified")

    await page.get_by_role("button", name="Sign out").click()
    await page.goto(f"{stack.web}/auth")
    await log_in(page, new, user.password)
    await expect(page).to_have_url(f"{stack.web}/")
