"""The account page's signed-in browsers and API tokens: see them, end them, make a named token."""

from __future__ import annotations

import httpx

from axiom_mcp.context import AppContext
from axiom_mcp.web.devices import device_name
from tests.support.factories import TestUser
from tests.web.helpers import csrf_of, submit

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/18.1 Mobile/15E148 Safari/604.1")


def test_devices_are_named_as_people_name_them() -> None:
    chrome_android = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/131.0.0.0 Mobile Safari/537.36")
    edge = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Safari/537.36 Edg/131.0.0.0")
    assert [device_name(ua) for ua in (FIREFOX_WINDOWS, SAFARI_IPHONE, chrome_android, edge, "", "curl/8.5")] == [
        "Firefox on Windows", "Safari on iPhone", "Chrome on Android", "Edge on Windows", "A browser", "A browser"]


async def _browser(web: httpx.AsyncClient, ctx: AppContext, user: TestUser, agent: str) -> httpx.AsyncClient:
    other = httpx.AsyncClient(transport=web._transport, base_url=str(web.base_url), headers={"user-agent": agent})
    login = await other.get("/auth")
    answer = await other.post("/auth", data={"email": user.email, "password": user.password,
                                             "csrf_token": csrf_of(login)})
    assert answer.status_code == 303, answer.text
    return other


async def test_the_page_lists_browsers_and_signs_out_everywhere_else(
    ctx: AppContext, web: httpx.AsyncClient, user: TestUser
) -> None:
    laptop = await _browser(web, ctx, user, FIREFOX_WINDOWS)
    phone = await _browser(web, ctx, user, SAFARI_IPHONE)
    try:
        page = await laptop.get("/account")
        assert "Firefox on Windows" in page.text and "Safari on iPhone" in page.text
        assert page.text.index("Firefox on Windows") < page.text.index("This browser") < page.text.index("Safari on iPhone")
        done = await submit(laptop, "/account", "/account/sessions/others")
        assert done.headers["location"] == "/account?notice=signed_out_elsewhere"
        assert (await phone.get("/account")).status_code == 303  # signed out
        after = await laptop.get("/account")
        assert after.status_code == 200 and "Safari on iPhone" not in after.text
    finally:
        await laptop.aclose()
        await phone.aclose()


async def test_a_named_api_token_is_shown_once_works_and_can_be_revoked(
    ctx: AppContext, signed_in: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    made = await submit(signed_in, "/account", "/account/tokens", token_name="  backup   script ")
    assert made.status_code == 200 and "backup script" in made.text
    token = made.text.split('id="api-token" type="text" readonly value="', 1)[1].split('"', 1)[0]
    assert token.startswith("axat_")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await api.get("/api/v1/user/profile", headers=bearer)).status_code == 200
    listed = (await api.get("/api/v1/auth/tokens", headers=bearer)).json()["items"]
    mine = next(t for t in listed if t["current"])
    assert mine["name"] == "backup script"
    assert token not in (await signed_in.get("/account")).text  # shown once, never again

    revoked = await submit(signed_in, "/account", "/account/tokens/revoke", token_id=mine["id"])
    assert revoked.headers["location"].startswith("/account?notice=token_revoked&named=backup+script&sig=")
    assert (await api.get("/api/v1/user/profile", headers=bearer)).status_code == 401  # at once


async def test_a_token_needs_a_name_and_nobody_revokes_anothers(
    ctx: AppContext, signed_in: httpx.AsyncClient, other_user: TestUser, api: httpx.AsyncClient
) -> None:
    nameless = await submit(signed_in, "/account", "/account/tokens", token_name="   ")
    assert nameless.status_code == 400 and "Give the token a name." in nameless.text
    login = await api.post("/api/v1/auth/login", json={"email": other_user.email, "password": other_user.password})
    theirs = (await api.get("/api/v1/auth/tokens", headers={"Authorization": f"Bearer {login.json()['token']}"})).json()
    response = await submit(signed_in, "/account", "/account/tokens/revoke", token_id=theirs["items"][0]["id"])
    assert response.status_code == 404
    assert (await api.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {login.json()['token']}"})).status_code == 200
