"""See as the app: ``/clients/{id}/items`` lists exactly the items a client profile lets an app see."""

from __future__ import annotations

import httpx

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import CLIENTS, ITEMS, TAGS
from axiom_mcp.data.schemas import ClientCreate, ItemCreate, TagCreate
from tests.support.factories import TestUser, make_user


async def test_the_page_lists_what_the_profile_sees_and_the_client_page_links_to_it(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    async with ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        home = await records.create_record(TAGS, session, user.id, TagCreate(name="home"))
        for name, tags in (("Work plan", [work.id]), ("Diary", [home.id]), ("Both", [work.id, home.id]), ("Loose", [])):
            await records.create_record(ITEMS, session, user.id, ItemCreate(
                name=name, tags=tags, content=f"<p>About <strong>{name}</strong></p>"))
        profile = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="ChatGPT", accessTags=[work.id]))

    form = await signed_in.get(f"/clients/{profile.id}")
    assert f'href="/clients/{profile.id}/items"' in form.text

    page = await signed_in.get(f"/clients/{profile.id}/items")
    assert page.status_code == 200
    assert "Work plan" in page.text and "Both" in page.text
    assert "Diary" not in page.text and "Loose" not in page.text
    assert ">home<" not in page.text  # only the tags the app sees
    assert "About Work plan" in page.text and "&lt;strong&gt;" not in page.text  # previews are plain text
    searched = await signed_in.get(f"/clients/{profile.id}/items", params={"q": "plan"})
    assert "Work plan" in searched.text and "Both" not in searched.text


async def test_another_persons_profile_is_not_found(ctx: AppContext, signed_in: httpx.AsyncClient) -> None:
    other = await make_user(ctx, name="Other")
    async with ctx.db.session() as session:
        theirs = await records.create_record(CLIENTS, session, other.id, ClientCreate(name="Theirs"))
    assert (await signed_in.get(f"/clients/{theirs.id}/items")).status_code == 404
    assert (await signed_in.get("/clients/not-an-id/items")).status_code == 404
