"""The person's choice at consent (which scopes, which items) and its change on the Connected apps
page, applied to the app's live tokens on their next call."""

from __future__ import annotations

import asyncio
import html
import re

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.access import connection_view
from axiom_mcp.data.kinds import CLIENTS, ITEMS, TAGS
from axiom_mcp.data.schemas import ClientCreate, ItemCreate, TagCreate
from axiom_mcp.oauth.consents import last_choice
from axiom_mcp.settings import SCOPES
from tests.oauth.helpers import with_settings
from tests.support.factories import TestUser
from tests.web.helpers import CALLBACK, csrf_of, pending_request, query_of, register_client, sign_in_directly

API = "/api/v1"
ASKED = "profile:read items:read items:write tags:read offline_access"


async def tagged_items(ctx: AppContext, user_id: str) -> dict[str, str]:
    """Tags work and journal, with two work items and one journal item: the tag ids by name."""
    async with ctx.db.session() as session:
        tags = {name: (await records.create_record(TAGS, session, user_id, TagCreate(name=name))).id
                for name in ("work", "journal")}
        for name, tag in (("Plan", "work"), ("Notes", "work"), ("Diary", "journal")):
            await records.create_record(ITEMS, session, user_id, ItemCreate(name=name, tags=[tags[tag]]))
    return tags


async def consent(auth: httpx.AsyncClient, browser: httpx.AsyncClient, client_id: str, *, resource: str = "",
                  **choices: object) -> tuple[httpx.Response, str, str]:
    """A request for ``ASKED`` (for ``resource``, if given), answered Allow on the consent page with
    ``choices`` (its fields): (the answer, the request's consent page path, its PKCE verifier)."""
    extra = {"resource": resource} if resource else {}
    path, verifier = await pending_request(auth, client_id, scope=ASKED, **extra)
    page = await browser.get(path)
    assert page.status_code == 200, page.text
    answer = await browser.post("/oauth/consent", data={
        "request_id": query_of(path)["request_id"], "decision": "allow", "choice": "1",
        "csrf_token": csrf_of(page), **choices})
    return answer, path, verifier


async def redeem(auth: httpx.AsyncClient, client_id: str, answer: httpx.Response, verifier: str) -> dict[str, str]:
    assert answer.status_code == 303, answer.text
    tokens = await auth.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": query_of(answer.headers["location"])["code"],
        "client_id": client_id, "code_verifier": verifier, "redirect_uri": CALLBACK})
    assert tokens.status_code == 200, tokens.text
    return dict(tokens.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def checked(page: str, name: str) -> set[str]:
    """The values of the ticked inputs named ``name``."""
    return {m.group(1) for m in re.finditer(rf'name="{name}" value="([^"]*)" checked', page)}


async def test_unticked_scopes_are_not_in_the_token_and_its_routes_answer_403(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    client_id = await register_client(auth, name="Reader")
    path, _ = await pending_request(auth, client_id, scope=ASKED)
    page = (await signed_in.get(path)).text
    assert checked(page, "scope") == set(ASKED.split())  # a new app: all it asked for, ticked
    assert checked(page, "sees") == {"all"}

    answer, _, verifier = await consent(auth, signed_in, client_id, resource=ctx.settings.api_resource,
                                        scope=["items:read", "profile:read"])
    tokens = await redeem(auth, client_id, answer, verifier)
    assert tokens["scope"] == "profile:read items:read"  # RFC 6749 section 3.3: it differs from the request
    token = tokens["access_token"]
    assert (await auth.get(f"{API}/user/items", headers=bearer(token))).status_code == 200
    refused = await auth.post(f"{API}/user/items", json={"name": "x"}, headers=bearer(token))
    assert refused.status_code == 403
    challenge = refused.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="items:write"' in challenge
    assert (await auth.get(f"{API}/user/tags", headers=bearer(token))).status_code == 403
    assert "refresh_token" not in tokens  # offline_access was asked for and withheld


async def test_the_refresh_token_carries_the_granted_scopes_and_stops_when_offline_access_is_taken_away(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient
) -> None:
    client_id = await register_client(auth, name="Stays")
    answer, _, verifier = await consent(auth, signed_in, client_id, scope=["items:read", "offline_access"])
    tokens = await redeem(auth, client_id, answer, verifier)
    assert tokens["scope"] == "items:read offline_access"
    refreshed = await auth.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id})
    assert refreshed.status_code == 200 and refreshed.json()["scope"] == "items:read offline_access"

    page = await signed_in.get("/apps")
    changed = await signed_in.post("/apps/change", data={
        "csrf_token": csrf_of(page), "client_id": client_id, "scope": ["items:read"], "sees": "all"})
    assert changed.status_code == 303
    again = await auth.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"], "client_id": client_id})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert await ctx.tokens.verify(refreshed.json()["access_token"]) is not None  # still reads, as allowed


async def test_unticking_everything_is_refused_on_the_page_and_the_request_kept(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    client_id = await register_client(auth, name="Greedy")
    answer, path, verifier = await consent(auth, signed_in, client_id)
    # ``consent`` posted no scope: the page says so and keeps the request for a real answer.
    assert answer.status_code == 400
    assert "Tick at least one permission, or press Deny." in answer.text
    assert checked(answer.text, "scope") == set()  # what was posted, shown back
    async with ctx.db.session() as session:
        assert await last_choice(session, user.id, client_id) is None
    page = await signed_in.get(path)
    again = await signed_in.post("/oauth/consent", data={
        "request_id": query_of(path)["request_id"], "decision": "allow", "choice": "1",
        "scope": ["tags:read"], "csrf_token": csrf_of(page)})
    assert (await redeem(auth, client_id, again, verifier))["scope"] == "tags:read"


async def test_a_new_profile_from_tags_is_stored_and_next_time_is_the_default(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    tags = await tagged_items(ctx, user.id)
    client_id = await register_client(auth, name="Work assistant")
    path, _ = await pending_request(auth, client_id, scope=ASKED)
    page = (await signed_in.get(path)).text
    assert f'name="tag" value="{tags["work"]}"> work</label>' in page
    assert "a new profile named “Work assistant”" in page

    answer, _, verifier = await consent(auth, signed_in, client_id, scope=["items:read", "tags:read"],
                                        sees="new", tag=[tags["work"]])
    await redeem(auth, client_id, answer, verifier)
    async with ctx.db.session() as session:
        view = await connection_view(session, user.id, client_id)
        assert view.restricted and view.access_tags == frozenset({tags["work"]})
        profile = await records.get_record(CLIENTS, session, user.id, view.profile_id)
        assert profile.name == "Work assistant" and profile.accessTags == [tags["work"]]

    # The next consent for this app opens on last time's choice.
    path, _ = await pending_request(auth, client_id, scope=ASKED)
    page = (await signed_in.get(path)).text
    assert checked(page, "scope") == {"items:read", "tags:read"}
    assert checked(page, "sees") == {"profile"}
    assert re.search(rf'<option value="{view.profile_id}" selected>Work assistant \(work; 2 items\)</option>', page)
    assert "<details class=\"sees\" open>" in page


async def test_an_existing_profile_is_chosen_and_another_persons_is_refused(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser, other_user: TestUser
) -> None:
    tags = await tagged_items(ctx, user.id)
    async with ctx.db.session() as session:
        journal = await records.create_record(CLIENTS, session, user.id,
                                              ClientCreate(name="Journal only", accessTags=[tags["journal"]]))
        theirs = await records.create_record(CLIENTS, session, other_user.id, ClientCreate(name="Theirs"))
    client_id = await register_client(auth, name="Diary bot")
    refused, _, _ = await consent(auth, signed_in, client_id, scope=["items:read"], sees="profile",
                                  profile_id=theirs.id)
    assert refused.status_code == 400 and "Choose one of your client profiles." in refused.text
    for junk in ("", "x\x00y", "z" * 5000):
        refused, _, _ = await consent(auth, signed_in, client_id, scope=["items:read"], sees="profile",
                                      profile_id=junk)
        assert refused.status_code == 400 and "Choose one of your client profiles." in refused.text
    answer, _, verifier = await consent(auth, signed_in, client_id, scope=["items:read"], sees="profile",
                                        profile_id=journal.id)
    token = (await redeem(auth, client_id, answer, verifier))["access_token"]
    async with ctx.db.session() as session:
        view = await connection_view(session, user.id, client_id)
    assert view.profile_id == journal.id and view.access_tags == frozenset({tags["journal"]})
    assert await ctx.tokens.verify(token) is not None


async def test_the_apps_page_shows_what_each_app_sees_and_may_do(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    tags = await tagged_items(ctx, user.id)
    for name, choices in (("Everything app", {}), ("Work app", {"sees": "new", "tag": [tags["work"]]})):
        client_id = await register_client(auth, name=name)
        answer, _, verifier = await consent(auth, signed_in, client_id, scope=["items:read", "profile:read"],
                                            **choices)
        await redeem(auth, client_id, answer, verifier)
    cards = (await signed_in.get("/apps")).text.split('<li class="card app"')[1:]
    everything, work = (next(c for c in cards if f"<h2>{name}</h2>" in c) for name in ("Everything app", "Work app"))
    assert "Everything app" in everything and "All your items" in everything
    assert 'class="profile-name">Work app</strong>' in work
    assert 'class="profile-count">2 items</span>' in work and '<span class="badge profile-tag">work</span>' in work
    for card in (everything, work):
        assert SCOPES["items:read"] in card and SCOPES["profile:read"] in card and SCOPES["items:write"] not in card


async def test_a_change_on_the_apps_page_applies_to_the_live_token_at_once(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    tags = await tagged_items(ctx, user.id)
    client_id = await register_client(auth, name="Writer")
    answer, _, verifier = await consent(auth, signed_in, client_id, resource=ctx.settings.api_resource,
                                        scope=["items:read", "items:write", "profile:read", "offline_access"])
    tokens = await redeem(auth, client_id, answer, verifier)
    token = tokens["access_token"]
    made = await auth.post(f"{API}/user/items", json={"name": "first"}, headers=bearer(token))
    assert made.status_code in (200, 201), made.text
    # Another instance on the same database, its own token cache (a short bound, for the test).
    other = with_settings(ctx, token_cache_seconds=0.2)
    assert {"items:write"} <= (await other.tokens.verify(token)).scopes  # type: ignore[union-attr]

    page = await signed_in.get("/apps")
    changed = await signed_in.post("/apps/change", data={
        "csrf_token": csrf_of(page), "client_id": client_id,
        "scope": ["items:read", "profile:read", "offline_access"], "sees": "new", "tag": [tags["journal"]]})
    assert changed.status_code == 303 and changed.headers["location"].startswith("/apps?notice=app_changed&named=")

    # This process: the next call, no new consent.
    refused = await auth.post(f"{API}/user/items", json={"name": "second"}, headers=bearer(token))
    assert refused.status_code == 403 and 'scope="items:write"' in refused.headers["www-authenticate"]
    listed = await auth.get(f"{API}/user/items", headers=bearer(token))
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json()["items"]] == ["Diary"]  # the new view, at once
    # The other instance: within its cache bound.
    await asyncio.sleep(0.3)
    assert (await other.tokens.verify(token)).scopes == {  # type: ignore[union-attr]
        "items:read", "profile:read", "offline_access"}
    async with ctx.db.session() as session:
        view = await connection_view(session, user.id, client_id)
    assert view.access_tags == frozenset({tags["journal"]})
    # A refresh gets the consent's scopes now, not the ones first granted.
    refreshed = await auth.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id})
    assert refreshed.json()["scope"] == "profile:read items:read offline_access"
    page = html.unescape((await signed_in.get(changed.headers["location"])).text)
    assert "'s next call sees and does only what you chose." in page
    assert 'class="profile-name">Writer</strong>' in page and 'class="profile-count">1 item</span>' in page


@pytest.mark.parametrize(("choices", "message"), [
    ({"scope": ["items:read", "tags:write"]}, "The app was not granted tags:write"),
    ({"scope": []}, "Keep at least one permission, or disconnect the app."),
    ({"scope": ["items:read"], "sees": "new"}, "Pick at least one tag for the new profile."),
])
async def test_the_apps_page_only_narrows_and_says_why_it_refuses(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser,
    choices: dict[str, object], message: str,
) -> None:
    client_id = await register_client(auth, name="Narrow")
    answer, _, verifier = await consent(auth, signed_in, client_id, scope=["items:read", "profile:read"])
    token = (await redeem(auth, client_id, answer, verifier))["access_token"]
    page = await signed_in.get("/apps")
    refused = await signed_in.post("/apps/change", data={"csrf_token": csrf_of(page), "client_id": client_id,
                                                         **choices})
    assert refused.status_code == 400 and message in refused.text
    info = await ctx.tokens.verify(token)
    assert info is not None and info.scopes == {"items:read", "profile:read"}


async def test_nobody_changes_another_persons_app(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, other_user: TestUser
) -> None:
    client_id = await register_client(auth, name="Mine")
    answer, _, verifier = await consent(auth, signed_in, client_id, scope=["items:read", "profile:read"])
    token = (await redeem(auth, client_id, answer, verifier))["access_token"]
    async with httpx.AsyncClient(transport=signed_in._transport, base_url=str(signed_in.base_url)) as other:
        await sign_in_directly(ctx, other, other_user.id)
        page = await other.get("/apps")
        response = await other.post("/apps/change", data={"csrf_token": csrf_of(page), "client_id": client_id,
                                                          "scope": ["profile:read"]})
        assert response.status_code == 404
    info = await ctx.tokens.verify(token)
    assert info is not None and info.scopes == {"items:read", "profile:read"}


async def test_introspection_tells_the_scopes_the_consent_allows_now(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient
) -> None:
    client_id = await register_client(auth, name="Looked at")
    answer, _, verifier = await consent(auth, signed_in, client_id, scope=["items:read", "items:write"])
    token = (await redeem(auth, client_id, answer, verifier))["access_token"]
    page = await signed_in.get("/apps")
    await signed_in.post("/apps/change", data={"csrf_token": csrf_of(page), "client_id": client_id,
                                               "scope": ["items:read"], "sees": "all"})
    described = await auth.post("/oauth/introspect", data={"token": token}, headers=bearer(token))
    assert described.status_code == 200 and described.json()["scope"] == "items:read"
