"""Login, sign-up, logout and password change through the pages."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import web_sessions
from axiom_mcp.web.app import create_web_app
from tests.support.factories import PASSWORD, TestUser
from tests.web.helpers import csrf_of, own_address, set_cookie, sign_in_directly, submit


def fresh_email() -> str:
    return f"new-{secrets.token_hex(5)}@example.com"


def without_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"', "", html)


async def test_sign_up_signs_in_and_welcomes(web: httpx.AsyncClient) -> None:
    response = await submit(web, "/auth/signup", name="Zoë", email=fresh_email(), password="long enough pw")
    assert response.status_code == 303
    assert response.headers["location"] == "/?notice=welcome"
    dashboard = await web.get(response.headers["location"])
    assert dashboard.status_code == 200
    assert "Hello, Zoë" in dashboard.text
    assert "Your account is ready" in dashboard.text


async def test_sign_up_returns_to_where_the_visitor_was_going(web: httpx.AsyncClient) -> None:
    response = await submit(web, "/auth/signup?return_to=%2Ftags", email=fresh_email(), password="long enough pw",
                            return_to="/tags")
    assert response.headers["location"] == "/tags"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "not-an-email", "password": "long enough pw"}, "email", "Enter a valid email address."),
        ({"email": "", "password": "long enough pw"}, "email", "Enter a valid email address."),
        ({"email": "{fresh}", "password": "short"}, "password", "Use at least 8 characters."),
        ({"email": "{fresh}", "password": "x" * 1025}, "password", "Use at most 1024 characters."),
        ({"email": "{fresh}", "password": "long enough pw", "name": "x" * 256}, "name", "Use at most 255 characters."),
        ({"email": "{taken}", "password": "long enough pw"}, "email", "An account with this email already exists."),
    ],
    ids=["bad-email", "no-email", "short-password", "long-password", "long-name", "taken-email"],
)
async def test_sign_up_errors_are_shown_beside_the_field(
    web: httpx.AsyncClient, user: TestUser, fields: dict[str, str], field: str, message: str
) -> None:
    values = {k: v.format(fresh=fresh_email(), taken=user.email.upper()) for k, v in fields.items()}
    response = await submit(web, "/auth/signup", **values)
    assert response.status_code == 400
    error = re.search(rf'id="f-{field}-error">([^<]+)<', response.text)
    assert error is not None, response.text
    assert error.group(1).startswith(message)
    assert 'aria-invalid="true"' in response.text
    assert "axiom_session" not in web.cookies


async def test_unknown_email_and_wrong_password_read_the_same(web: httpx.AsyncClient, user: TestUser) -> None:
    unknown = await submit(web, "/auth", email=f"x{user.email}", password=user.password)
    wrong = await submit(web, "/auth", email=user.email, password="not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong email or password." in wrong.text
    # Identical pages apart from the email typed in and the form's values.
    assert without_tokens(unknown.text) == without_tokens(wrong.text)


async def test_empty_login_fields_are_refused_without_counting(web: httpx.AsyncClient) -> None:
    response = await submit(web, "/auth", email="", password="")
    assert response.status_code == 400
    assert "Enter your email and password." in response.text


async def test_login_is_rate_limited(ctx: AppContext, user: TestUser) -> None:
    strict = AppContext(settings=ctx.settings.model_copy(update={"login_rate_limit": 2}), db=ctx.db)
    transport = httpx.ASGITransport(app=create_web_app(strict), client=(own_address(), 50000))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.web_url) as web:
        for _ in range(2):
            assert (await submit(web, "/auth", email=user.email, password="wrong password")).status_code == 401
        locked = await submit(web, "/auth", email=user.email, password=user.password)
    assert locked.status_code == 429
    assert 30 <= int(locked.headers["retry-after"]) <= 60  # a one-minute lock, started a moment ago
    assert "Too many sign-in attempts. Try again in 1 minute." in locked.text
    assert "axiom_session" not in web.cookies


async def test_login_starts_a_new_session_and_ends_the_old_one(
    ctx: AppContext, web: httpx.AsyncClient, user: TestUser
) -> None:
    token = csrf_of(await web.get("/auth"))  # the login page, opened before ...
    planted = await sign_in_directly(ctx, web, user.id)  # ... a session cookie got into the browser
    response = await web.post("/auth", data={"email": user.email, "password": user.password, "csrf_token": token})
    assert response.status_code == 303
    fresh = web.cookies.get("axiom_session")
    assert fresh and fresh != planted
    async with ctx.db.session() as session:
        assert await web_sessions.find_session(session, planted) is None
        assert await web_sessions.find_session(session, fresh) is not None


async def test_a_signed_in_visit_to_the_login_page_goes_on(signed_in: httpx.AsyncClient) -> None:
    response = await signed_in.get("/auth", params={"return_to": "/apps"})
    assert response.status_code == 303
    assert response.headers["location"] == "/apps"


@pytest.mark.parametrize(
    ("path", "login"),
    [("/", "/auth"), ("/items?q=a b&page=2", "/auth?return_to=%2Fitems%3Fq%3Da%2520b%26page%3D2"),
     ("/apps", "/auth?return_to=%2Fapps")],
    ids=["dashboard", "list-with-query", "apps"],
)
async def test_anonymous_visitors_go_to_login_and_come_back(web: httpx.AsyncClient, path: str, login: str) -> None:
    response = await web.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == login


async def test_logout_ends_the_session(ctx: AppContext, signed_in: httpx.AsyncClient) -> None:
    raw = signed_in.cookies.get("axiom_session")
    response = await submit(signed_in, "/auth/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth?notice=signed_out"
    async with ctx.db.session() as session:
        assert await web_sessions.find_session(session, raw) is None
    set_cookie(signed_in, "axiom_session", raw or "")  # even a browser that kept the cookie is out
    assert (await signed_in.get("/")).status_code == 303


async def test_a_removed_account_is_signed_out(ctx: AppContext, web: httpx.AsyncClient) -> None:
    from axiom_mcp.data import users
    from tests.support.factories import make_user

    doomed = await make_user(ctx)
    await sign_in_directly(ctx, web, doomed.id)
    async with ctx.db.session() as session:
        await users.delete_user(session, doomed.email)
    assert (await web.get("/")).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("wrong password", "brand new pw", "brand new pw", "current_password", "The current password is wrong."),
        ("", "brand new pw", "brand new pw", "current_password", "Enter your current password."),
        (PASSWORD, "brand new pw", "brand new pX", "confirm_password", "The two new passwords differ."),
        (PASSWORD, "short", "short", "new_password", "The new password needs 8 to 1024 characters."),
    ],
    ids=["wrong-current", "no-current", "mismatch", "short"],
)
async def test_password_change_errors(
    signed_in: httpx.AsyncClient, current: str, new: str, confirm: str, field: str, message: str
) -> None:
    response = await submit(signed_in, "/account", "/account/password",
                            current_password=current, new_password=new, confirm_password=confirm)
    assert response.status_code == 400
    error = re.search(rf'id="f-{field}-error">([^<]+)<', response.text)
    assert error is not None and error.group(1) == message


async def test_password_change_signs_out_other_browsers_only(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    async with httpx.AsyncClient(transport=signed_in._transport, base_url=str(signed_in.base_url)) as elsewhere:
        await sign_in_directly(ctx, elsewhere, user.id)
        assert (await elsewhere.get("/")).status_code == 200
        response = await submit(signed_in, "/account", "/account/password", current_password=user.password,
                                new_password="a new passphrase", confirm_password="a new passphrase")
        assert response.status_code == 303
        assert response.headers["location"] == "/account?notice=password"
        assert (await elsewhere.get("/")).status_code == 303
    assert (await signed_in.get("/account")).status_code == 200
    page = await signed_in.get("/account?notice=password")
    assert "Password changed" in page.text
    signed_in.cookies.clear()
    relogin = await submit(signed_in, "/auth", email=user.email, password="a new passphrase")
    assert relogin.status_code == 303


async def test_notices_show_only_known_messages(signed_in: httpx.AsyncClient) -> None:
    page = await signed_in.get("/", params={"notice": "<script>alert(1)</script>"})
    assert page.status_code == 200
    assert "alert(1)" not in page.text
    assert csrf_of(page)
