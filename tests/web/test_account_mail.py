"""Forgot password, address confirmation and address change through the pages, with a real SMTP
server on loopback receiving the mail (the browser versions are in test_account_browser.py)."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import users
from axiom_mcp.oauth.consents import record_consent
from axiom_mcp.web.app import create_web_app
from tests.support.factories import TestUser, make_token
from tests.support.servers import free_port
from tests.support.smtp import Mailbox, link_in, smtp_server, text_of
from tests.web.helpers import csrf_of, own_address, sign_in_directly, submit

NEW_PASSWORD = "a new and long password"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def mailing(ctx: AppContext, mailbox: Mailbox) -> AppContext:
    """The shared database, with mail going to the loopback SMTP server."""
    return AppContext(settings=ctx.settings.model_copy(update={"smtp_url": SecretStr(mailbox.url)}), db=ctx.db)


async def _client(ctx: AppContext) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_web_app(ctx), client=(own_address(), 50000))
    return httpx.AsyncClient(transport=transport, base_url=ctx.settings.web_url)


@pytest.fixture
async def page(mailing: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(mailing) as client:
        yield client


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def fresh_email() -> str:
    return f"new-{secrets.token_hex(5)}@example.com"


def without_address_and_tokens(html: str, email: str) -> str:
    return re.sub(r'value="[^"]*"', "", html.replace(email, "EMAIL"))


async def ask_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await submit(client, "/auth/forgot", email=email)


# --- forgot password ------------------------------------------------------------------------------


async def test_the_sign_in_page_links_to_forgot_password(page: httpx.AsyncClient) -> None:
    login = await page.get("/auth")
    assert 'href="/auth/forgot"' in login.text and "Forgot your password?" in login.text


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    page: httpx.AsyncClient, mailbox: Mailbox, user: TestUser
) -> None:
    unknown = fresh_email()
    known = await ask_reset(page, user.email)
    other = await ask_reset(page, unknown)
    assert known.status_code == other.status_code == 200
    assert without_address_and_tokens(known.text, user.email) == without_address_and_tokens(other.text, unknown)
    assert "Check your email" in known.text
    message = await mailbox.wait_for(user.email)
    assert message["Subject"] == "Set a new Axiom password"
    assert mailbox.to(unknown) == []


async def test_the_reset_link_sets_a_password_once(page: httpx.AsyncClient, mailbox: Mailbox, user: TestUser) -> None:
    await ask_reset(page, user.email.upper())
    link = path_of(link_in(await mailbox.wait_for(user.email)))
    form = await page.get(link)
    assert form.status_code == 200 and user.email in form.text
    differ = await page.post("/auth/reset", data={"csrf_token": csrf_of(form), "token": link.split("token=")[1],
                                                  "new_password": NEW_PASSWORD, "confirm_password": "other one"})
    assert differ.status_code == 400 and "The two passwords differ." in differ.text
    done = await submit(page, link, "/auth/reset", token=link.split("token=")[1], new_password=NEW_PASSWORD,
                        confirm_password=NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/?notice=password"
    assert (await page.get("/")).status_code == 200  # signed in with the new password's session
    again = await page.get(link)
    assert again.status_code == 400 and "This link no longer works" in again.text


async def test_a_reset_signs_out_every_browser_and_kills_api_tokens_at_once(
    mailing: AppContext, page: httpx.AsyncClient, mailbox: Mailbox, user: TestUser
) -> None:
    transport = httpx.ASGITransport(app=create_auth_app(mailing), client=(own_address(), 50001))
    async with httpx.AsyncClient(transport=transport, base_url=mailing.settings.public_url) as api, \
            await _client(mailing) as elsewhere:
        login = await api.post("/api/v1/auth/login", json={"email": user.email, "password": user.password})
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}
        assert (await api.get("/api/v1/user/profile", headers=bearer)).status_code == 200  # cached now
        await sign_in_directly(mailing, elsewhere, user.id)
        assert (await elsewhere.get("/account")).status_code == 200

        await ask_reset(page, user.email)
        link = path_of(link_in(await mailbox.wait_for(user.email)))
        token = link.split("token=")[1]
        await submit(page, link, "/auth/reset", token=token, new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)

        assert (await api.get("/api/v1/user/profile", headers=bearer)).status_code == 401
        assert (await elsewhere.get("/account")).headers["location"].startswith("/auth?return_to=")
        relogin = await api.post("/api/v1/auth/login", json={"email": user.email, "password": NEW_PASSWORD})
        assert relogin.status_code == 200


async def test_after_a_reset_the_person_may_disconnect_every_app(
    mailing: AppContext, page: httpx.AsyncClient, mailbox: Mailbox, user: TestUser
) -> None:
    tokens = {}
    for name in ("app-one", "app-two"):
        async with mailing.db.session() as session:
            await record_consent(session, user.id, f"{name}-{user.id}", ["items:read"])
        tokens[name] = await make_token(mailing, user.id, ["items:read"], client_id=f"{name}-{user.id}")
    await ask_reset(page, user.email)
    link = path_of(link_in(await mailbox.wait_for(user.email)))
    done = await submit(page, link, "/auth/reset", token=link.split("token=")[1], new_password=NEW_PASSWORD,
                        confirm_password=NEW_PASSWORD)
    assert done.headers["location"] == "/apps/disconnect-all"
    offer = await page.get("/apps/disconnect-all")
    assert "app-one" in offer.text and "app-two" in offer.text and "Disconnect all" in offer.text
    assert await mailing.tokens.verify(tokens["app-one"]) is not None  # still connected until asked
    gone = await submit(page, "/apps/disconnect-all")
    assert gone.headers["location"] == "/apps?notice=revoked"
    assert "app-one" not in (await page.get("/apps")).text
    for token in tokens.values():
        assert await mailing.tokens.verify(token) is None


@pytest.mark.parametrize("token", ["", "axol_unknown", "x" * 3000], ids=["none", "unknown", "huge"])
async def test_a_bad_reset_link_says_so(page: httpx.AsyncClient, token: str) -> None:
    response = await page.get("/auth/reset", params={"token": token})
    assert response.status_code == 400 and "This link no longer works" in response.text
    posted = await submit(page, "/auth/forgot", "/auth/reset", token=token, new_password=NEW_PASSWORD,
                          confirm_password=NEW_PASSWORD)
    assert posted.status_code == 400


async def test_asking_for_links_is_rate_limited_per_address(
    ctx: AppContext, mailbox: Mailbox, user: TestUser
) -> None:
    limited = AppContext(settings=ctx.settings.model_copy(update={
        "smtp_url": SecretStr(mailbox.url), "signup_rate_limit": 2}), db=ctx.db)
    async with await _client(limited) as client:
        answers = [await ask_reset(client, email) for email in (user.email, fresh_email(), user.email)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Too many requests from this address" in answers[2].text and answers[2].headers["retry-after"]
    assert len(mailbox.to(user.email)) == 1
    async with await _client(limited) as client:  # another address is not held back
        assert (await ask_reset(client, user.email)).status_code == 200


async def test_asking_for_links_leaves_the_sign_up_budget_alone(ctx: AppContext, mailbox: Mailbox,
                                                                 user: TestUser) -> None:
    limited = AppContext(settings=ctx.settings.model_copy(update={
        "smtp_url": SecretStr(mailbox.url), "signup_rate_limit": 1}), db=ctx.db)
    async with await _client(limited) as client:
        assert (await ask_reset(client, user.email)).status_code == 200
        signed_up = await submit(client, "/auth/signup", email=fresh_email(), password="long enough pw")
        assert signed_up.status_code == 303


async def test_without_a_mail_server_the_page_says_where_the_message_is(
    ctx: AppContext, user: TestUser, tmp_path: Path
) -> None:
    development = AppContext(settings=ctx.settings.model_copy(update={
        "environment": "development", "data_dir": tmp_path}), db=ctx.db)
    async with await _client(development) as client:
        answer = await ask_reset(client, user.email)
        unknown = await ask_reset(client, fresh_email())
    assert "We could not send email from this server" in answer.text
    assert f"{tmp_path}/mail/" in answer.text and f"{tmp_path}/mail/" in unknown.text
    [saved] = list((tmp_path / "mail").glob("*.eml"))
    assert user.email in saved.read_text() and "/auth/reset?token=axol_" in saved.read_text()


async def test_outside_development_the_page_names_no_folder(ctx: AppContext, user: TestUser) -> None:
    async with await _client(ctx) as client:  # environment "test", no SMTP
        answer = await ask_reset(client, user.email)
    assert answer.status_code == 200 and "We could not send email" not in answer.text


async def test_a_broken_mail_server_still_gives_the_same_page(ctx: AppContext, user: TestUser) -> None:
    broken = AppContext(settings=ctx.settings.model_copy(update={
        "smtp_url": SecretStr(f"smtp://127.0.0.1:{free_port()}")}), db=ctx.db)
    async with await _client(broken) as client:
        answer = await ask_reset(client, user.email)
    assert answer.status_code == 200 and "Check your email" in answer.text


# --- confirming the address -----------------------------------------------------------------------


async def test_sign_up_mails_a_confirmation_link(page: httpx.AsyncClient, mailbox: Mailbox) -> None:
    email = fresh_email()
    await submit(page, "/auth/signup", name="Zoë", email=email, password="long enough pw")
    account = await page.get("/account")
    assert "Not confirmed" in account.text and "Resend the link" in account.text
    assert "Email verified" not in account.text
    message = await mailbox.wait_for(email)
    assert message["Subject"] == "Confirm your email address for Axiom" and "Zoë" in text_of(message)
    confirmed = await page.get(path_of(link_in(message)))
    assert confirmed.status_code == 200 and "Email confirmed" in confirmed.text
    account = await page.get("/account")
    assert "Verified" in account.text and "Resend the link" not in account.text
    assert (await page.get(path_of(link_in(message)))).status_code == 400  # once


async def test_resend_mails_a_new_link(page: httpx.AsyncClient, mailing: AppContext, mailbox: Mailbox,
                                       user: TestUser) -> None:
    await sign_in_directly(mailing, page, user.id)
    sent = await submit(page, "/account", "/account/email/verify")
    assert sent.status_code == 200 and user.email in sent.text
    confirmed = await page.get(path_of(link_in(await mailbox.wait_for(user.email))))
    assert "Email confirmed" in confirmed.text
    assert (await submit(page, "/account", "/account/email/verify")).status_code == 303  # nothing left to confirm
    assert len(mailbox.to(user.email)) == 1


# --- changing the address -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_email", "password", "field", "message"),
    [
        ("not-an-email", "{password}", "new_email", "Enter an email address"),
        ("{own}", "{password}", "new_email", "This is already your email."),
        ("{taken}", "{password}", "new_email", "Another account uses this email."),
        ("{fresh}", "wrong password", "email_password", "The password is wrong."),
    ],
    ids=["bad-email", "same-email", "taken", "wrong-password"],
)
async def test_change_email_errors_are_shown_beside_the_field(
    page: httpx.AsyncClient, mailing: AppContext, mailbox: Mailbox, user: TestUser, other_user: TestUser,
    new_email: str, password: str, field: str, message: str,
) -> None:
    await sign_in_directly(mailing, page, user.id)
    values = {"own": user.email.upper(), "taken": other_user.email, "fresh": fresh_email(), "password": user.password}
    response = await submit(page, "/account", "/account/email", new_email=new_email.format(**values),
                            email_password=password.format(**values))
    assert response.status_code == 400
    error = re.search(rf'id="f-{field}-error">([^<]+)<', response.text)
    assert error and error.group(1).startswith(message)
    assert mailbox.messages == []


async def test_changing_the_email_waits_for_the_new_address_and_tells_the_old(
    page: httpx.AsyncClient, mailing: AppContext, mailbox: Mailbox, user: TestUser
) -> None:
    await sign_in_directly(mailing, page, user.id)
    new = fresh_email()
    sent = await submit(page, "/account", "/account/email", new_email=new.upper(), email_password=user.password)
    assert sent.status_code == 200 and new in sent.text
    async with mailing.db.session() as session:
        assert (await users.get_profile(session, user.id)).email == user.email  # nothing yet
    link = path_of(link_in(await mailbox.wait_for(new)))
    ask = await page.get(link)  # a mail scanner opening the link changes nothing
    assert ask.status_code == 200 and "Change my email" in ask.text
    async with mailing.db.session() as session:
        assert (await users.get_profile(session, user.id)).email == user.email
    done = await submit(page, link, "/account/email/confirm", token=link.split("token=")[1])
    assert done.status_code == 200 and "Email changed" in done.text
    async with mailing.db.session() as session:
        profile = await users.get_profile(session, user.id)
    assert (profile.email, profile.verified) == (new, True)
    notice = await mailbox.wait_for(user.email)
    assert notice["Subject"] == "Your Axiom email address was changed" and new in text_of(notice)
    assert (await page.get(link)).status_code == 400


async def test_sign_up_through_the_rest_api_mails_the_same_confirmation_link(
    mailing: AppContext, mailbox: Mailbox, page: httpx.AsyncClient
) -> None:
    from axiom_mcp.app import create_auth_app

    email = fresh_email()
    transport = httpx.ASGITransport(app=create_auth_app(mailing), client=(own_address(), 50001))
    async with httpx.AsyncClient(transport=transport, base_url=mailing.settings.public_url) as api:
        created = await api.post("/api/v1/auth/signup", json={"email": email, "password": "long enough pw", "name": "Api"})
    assert created.status_code == 201 and created.json()["verified"] is False
    message = await mailbox.wait_for(email)
    link = link_in(message)
    assert link.startswith(f"{mailing.settings.web_url}/auth/verify?token=")
    confirmed = await page.get(path_of(link))
    assert confirmed.status_code == 200 and "Email confirmed" in confirmed.text
