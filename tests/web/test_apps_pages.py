"""Connected apps: what the user allowed, and Disconnect ending the app's tokens at once."""

from __future__ import annotations

import html
import re

import httpx

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.activity import Action
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import ItemCreate
from axiom_mcp.settings import SCOPES
from tests.support.factories import TestUser
from tests.web.helpers import CALLBACK, csrf_of, pending_request, query_of, register_client, sign_in_directly, submit


async def connect(ctx: AppContext, auth: httpx.AsyncClient, browser: httpx.AsyncClient, name: str,
                  scope: str = "items:read profile:read") -> tuple[str, str]:
    """The whole flow through the consent page: (client_id, access token)."""
    client_id = await register_client(auth, name=name)
    consent, verifier = await pending_request(auth, client_id, scope=scope)
    page = await browser.get(consent)
    answer = await browser.post("/oauth/consent", data={
        "request_id": query_of(consent)["request_id"], "decision": "allow", "csrf_token": csrf_of(page)})
    code = query_of(answer.headers["location"])["code"]
    tokens = await auth.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id,
        "code_verifier": verifier, "redirect_uri": CALLBACK})
    assert tokens.status_code == 200, tokens.text
    return client_id, str(tokens.json()["access_token"])


async def test_the_page_lists_allowed_apps_with_scopes(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient
) -> None:
    empty = await signed_in.get("/apps")
    assert "No apps are connected" in empty.text
    await connect(ctx, auth, signed_in, "Research helper")
    page = await signed_in.get("/apps")
    assert page.status_code == 200
    assert "Research helper" in page.text and "Unverified" in page.text and "claude.ai" in page.text
    assert SCOPES["items:read"] in page.text and SCOPES["items:write"] not in page.text
    assert "Last used" in page.text and "Connected" in page.text


async def test_disconnect_ends_the_apps_tokens_at_once(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    client_id, token = await connect(ctx, auth, signed_in, "Doomed app")
    kept_id, kept_token = await connect(ctx, auth, signed_in, "Kept app")
    assert await ctx.tokens.verify(token) is not None  # now in this process's 2-second cache
    confirm = await signed_in.get("/apps/disconnect", params={"client_id": client_id})
    assert "Disconnect Doomed app?" in confirm.text and await ctx.tokens.verify(token) is not None
    response = await submit(signed_in, f"/apps/disconnect?client_id={client_id}", "/apps/revoke", client_id=client_id)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/apps?notice=revoked&named=Doomed+app&sig=")
    assert await ctx.tokens.verify(token) is None  # forgotten by the cache, revoked in the database
    assert await ctx.tokens.verify(kept_token) is not None
    page = await signed_in.get(response.headers["location"])
    assert "Disconnected Doomed app. It can no longer reach your data." in page.text and "Kept app" in page.text
    assert "Doomed app" not in page.text.replace("Disconnected Doomed app.", "")


async def test_nobody_disconnects_another_users_app(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, other_user: TestUser
) -> None:
    client_id, token = await connect(ctx, auth, signed_in, "Mine")
    async with httpx.AsyncClient(transport=signed_in._transport, base_url=str(signed_in.base_url)) as other:
        await sign_in_directly(ctx, other, other_user.id)
        for target in (client_id, "no-such-client"):
            response = await submit(other, "/apps", "/apps/revoke", client_id=target)
            assert response.status_code == 404
    assert await ctx.tokens.verify(token) is not None


async def test_each_app_shows_what_it_did_and_a_page_of_all_its_actions(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser, other_user: TestUser
) -> None:
    from axiom_mcp.data.activity import Action, ActivityLog

    client_id, _ = await connect(ctx, auth, signed_in, "Busy app")
    log = ActivityLog(ctx.db, delay=60)
    for n in range(60):
        log.record(Action(user.id, client_id, "mcp", "get_user_item", (f"item{n:011d}",)))
    log.record(Action(user.id, client_id, "rest", "DELETE /api/v1/user/items/{record_id}", ("gone",), ok=False, error="not_found"))
    log.record(Action(other_user.id, client_id, "mcp", "someone_elses_call"))
    await log.flush()

    page = await signed_in.get("/apps")
    assert "Calls per day, last 30 days" in page.text and "<svg" in page.text
    assert "Calls by Busy app per day: 61 calls in 30 days, 1 failed." in page.text
    assert "DELETE /api/v1/user/items/{record_id}" in page.text and "Failed: not_found" in page.text
    assert "All 61 actions" in page.text and "someone_elses_call" not in page.text

    first = await signed_in.get("/apps/activity", params={"client_id": client_id})
    assert first.status_code == 200 and "What Busy app did" in first.text
    assert first.text.count("get_user_item") + first.text.count("DELETE /api") == 50
    second = await signed_in.get("/apps/activity", params={"client_id": client_id, "page": "2"})
    assert second.text.count("get_user_item") == 11 and "Page 2 of 2" in second.text
    assert "someone_elses_call" not in first.text + second.text


async def test_the_activity_of_an_app_that_is_not_yours_is_not_found(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, other_user: TestUser
) -> None:
    client_id, _ = await connect(ctx, auth, signed_in, "Private app")
    async with httpx.AsyncClient(transport=signed_in._transport, base_url=str(signed_in.base_url)) as other:
        await sign_in_directly(ctx, other, other_user.id)
        for target in (client_id, "no-such-client", ""):
            for page in ("/apps/activity", "/apps/disconnect"):
                response = await other.get(page, params={"client_id": target})
                assert response.status_code == 404


async def test_an_apps_delete_can_be_undone_from_its_activity(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    client_id, _ = await connect(ctx, auth, signed_in, "Tidy bot", scope="items:read items:write")
    async with ctx.db.session() as session:  # what the app's delete_user_item call does, and records
        item_id = (await records.create_record(ITEMS, session, user.id, ItemCreate(name="Old note"))).id
        await records.delete_record(ITEMS, session, await ctx.views.of(user.id, client_id), item_id)
    ctx.activity.record(Action(user.id, client_id, "mcp", "delete_user_item", (item_id,)))
    await ctx.activity.flush()
    for path in ("/apps", f"/apps/activity?client_id={client_id}"):
        page = await signed_in.get(path)
        assert "Undo: bring “Old note” back" in html.unescape(page.text), path
    form = re.search(r'action="(/undo/[a-z0-9]{15})"', page.text)
    assert form is not None
    back = await signed_in.post(form.group(1), data={"csrf_token": csrf_of(page)})
    assert back.status_code == 303
    async with ctx.db.session() as session:
        assert (await records.get_record(ITEMS, session, user.id, item_id)).name == "Old note"
    assert "Undo: bring" not in (await signed_in.get("/apps")).text  # nothing left to undo
