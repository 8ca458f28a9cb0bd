"""Times in the person's own time zone: taken from the browser at sign-in, changeable on the account page."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from axiom_mcp.context import AppContext
from axiom_mcp.db.tables import User
from tests.support.factories import TestUser
from tests.web.helpers import csrf_of, submit


async def _zone(ctx: AppContext, user_id: str) -> str:
    async with ctx.db.session() as session:
        return str(await session.scalar(select(User.timezone).where(User.id == user_id)))


async def _sign_in(web: httpx.AsyncClient, user: TestUser, zone: str) -> httpx.Response:
    page = await web.get("/auth")
    return await web.post("/auth", data={"email": user.email, "password": user.password, "timezone": zone,
                                         "csrf_token": csrf_of(page)})


async def test_the_browsers_zone_is_taken_at_sign_in_and_times_show_in_it(
    ctx: AppContext, web: httpx.AsyncClient, user: TestUser
) -> None:
    assert (await _sign_in(web, user, "Asia/Tokyo")).status_code == 303
    assert await _zone(ctx, user.id) == "Asia/Tokyo"
    page = await web.get("/account")
    assert " JST" in page.text and " UTC" not in page.text
    assert '<option selected>Asia/Tokyo</option>' in page.text


async def test_a_choice_on_the_account_page_wins_over_later_sign_ins(
    ctx: AppContext, web: httpx.AsyncClient, user: TestUser
) -> None:
    await _sign_in(web, user, "Asia/Tokyo")
    saved = await submit(web, "/account", "/account/profile", name="Ann", timezone="Europe/Paris")
    assert saved.status_code == 303
    async with httpx.AsyncClient(transport=web._transport, base_url=str(web.base_url)) as laptop:
        assert (await _sign_in(laptop, user, "America/New_York")).status_code == 303
    assert await _zone(ctx, user.id) == "Europe/Paris"


async def test_unknown_zones_are_refused_or_ignored(ctx: AppContext, web: httpx.AsyncClient, user: TestUser) -> None:
    assert (await _sign_in(web, user, "Mars/Olympus_Mons")).status_code == 303  # ignored, sign-in works
    assert await _zone(ctx, user.id) == ""
    refused = await submit(web, "/account", "/account/profile", name="Ann", timezone="Mars/Olympus_Mons")
    assert refused.status_code == 400 and "Choose a time zone from the list." in refused.text
    assert await _zone(ctx, user.id) == ""
