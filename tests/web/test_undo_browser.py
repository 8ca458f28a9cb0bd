"""Deleting and undoing in Chromium (JavaScript off), at a phone's width and a desktop's: a tap
anywhere on a row opens the record; on a phone no row has a Delete button; after a delete the list
says "Deleted “X”" with Undo, and Undo brings the item back with its tags and its file (which
downloads); an app's delete is offered under "Recently deleted"; too late, Undo says so and cleanup
destroys the bytes; an item whose files no longer fit says so; another person cannot undo. Screenshots go to test-artifacts/screenshots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import expect

from axiom_mcp.context import AppContext
from axiom_mcp.data import access, files, records, undo
from axiom_mcp.data.kinds import ITEMS, TAGS
from axiom_mcp.data.schemas import ItemCreate, TagCreate
from tests.support.factories import end_undo_windows, make_user
from tests.web.conftest import SCREENS, Served
from tests.web.helpers import Screenshots

pytestmark = pytest.mark.browser

async def _stream(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _item_with_a_tag_and_a_file(ctx: AppContext, user_id: str, name: str) -> tuple[str, str]:
    async with ctx.db.session() as session:
        tag = await records.create_record(TAGS, session, user_id, TagCreate(name="Research"))
        item = await records.create_record(ITEMS, session, user_id, ItemCreate(
            name=name, content="Talked to five users.", tags=[tag.id]))
    attached = await files.add_file(ctx.db, ctx.blobs, ctx.settings, user_id, item.id, "notes.txt",
                                    _stream(b"the notes"))
    return item.id, attached.id


@pytest.mark.parametrize("screen", SCREENS)
async def test_tap_a_row_delete_then_undo_brings_the_item_back_with_its_tags_and_file(
    served: Served, screenshots: Screenshots, screen: str
) -> None:
    user = await make_user(served.ctx)
    item_id, file_id = await _item_with_a_tag_and_a_file(served.ctx, user.id, "Interview notes")
    context = await served.browser_of(user.id, screen)
    page = await context.new_page()
    try:
        await page.goto(f"{served.url}/items")
        row = page.locator(".records li", has_text="Interview notes")
        delete_on_row = row.get_by_role("link", name="Delete Interview notes")
        if screen == "phone":
            await expect(delete_on_row).to_be_hidden()  # not one tap away on every row
        else:
            await expect(delete_on_row).to_be_visible()
        box = await row.bounding_box()
        assert box is not None
        await page.mouse.click(box["x"] + box["width"] - 8, box["y"] + box["height"] - 6)  # far from the title
        await expect(page).to_have_url(f"{served.url}/items/{item_id}/view")

        await page.get_by_role("link", name="Delete").click()
        await expect(page.get_by_text("you can undo this")).to_be_visible()
        await page.get_by_role("button", name="Delete item").click()
        notice = page.get_by_role("status")
        await expect(notice).to_contain_text("Deleted “Interview notes”.")
        await expect(page.locator(".records li", has_text="Interview notes")).to_have_count(0)
        await screenshots.save(page, f"undo-notice-{screen}")
        await notice.get_by_role("button", name="Undo").click()

        await expect(page.get_by_role("status")).to_have_text("“Interview notes” is back, as it was.")
        row = page.locator(".records li", has_text="Interview notes")
        await expect(row.get_by_text("Research")).to_be_visible()  # its tag
        await row.get_by_role("link", name="Interview notes", exact=True).click()
        await page.get_by_role("link", name="Edit").click()
        download = page.get_by_role("link", name="notes.txt", exact=True)
        await expect(download).to_be_visible()  # its file
        assert await download.get_attribute("href") == f"/items/{item_id}/files/{file_id}"
        got = await context.request.get(f"{served.url}/items/{item_id}/files/{file_id}")
        assert got.status == 200 and await got.body() == b"the notes"
        if screen == "phone":
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0
    finally:
        await context.close()


async def test_an_apps_delete_is_offered_under_recently_deleted(served: Served, screenshots: Screenshots) -> None:
    user = await make_user(served.ctx)
    item_id, _ = await _item_with_a_tag_and_a_file(served.ctx, user.id, "Deleted by a model")
    async with served.ctx.db.session() as session:  # as an MCP tool or a REST call deletes it
        await records.delete_record(ITEMS, session, access.everything(user.id), item_id)
    context = await served.browser_of(user.id, "phone")
    page = await context.new_page()
    try:
        await page.goto(f"{served.url}/items")
        recent = page.get_by_role("region", name="Recently deleted")
        await expect(recent).to_contain_text("Deleted by a model")
        await screenshots.save(page, "recently-deleted-phone")
        await recent.get_by_role("button", name="Undo deleting “Deleted by a model”").click()
        await expect(page.get_by_role("status")).to_have_text("“Deleted by a model” is back, as it was.")
        await expect(page.get_by_role("region", name="Recently deleted")).to_have_count(0)
    finally:
        await context.close()


async def test_too_late_undo_says_so_and_cleanup_destroys_the_files(served: Served, screenshots: Screenshots) -> None:
    user = await make_user(served.ctx)
    item_id, file_id = await _item_with_a_tag_and_a_file(served.ctx, user.id, "Old draft")
    context = await served.browser_of(user.id, "desktop")
    page = await context.new_page()
    try:
        await page.goto(f"{served.url}/items/{item_id}/delete")
        await page.get_by_role("button", name="Delete item").click()
        undo_button = page.get_by_role("status").get_by_role("button", name="Undo")
        await expect(undo_button).to_be_visible()
        # The window ends (as if ten minutes went by): the settings are read on every request.
        served.ctx.settings = served.ctx.settings.model_copy(update={"undo_window": timedelta(microseconds=1)})
        await undo_button.click()
        await expect(page.get_by_role("heading", name="Too late to undo")).to_be_visible()
        await expect(page.get_by_text("“Old draft” was deleted more than")).to_be_visible()
        await screenshots.save(page, "undo-too-late")
        key = f"{user.id}/{file_id}"
        assert b"".join([c async for c in await served.ctx.blobs.open(key)]) == b"the notes"  # until cleanup
        await end_undo_windows(served.ctx)
        with pytest.raises(Exception):  # noqa: B017 - BlobMissing, whatever the backend
            await served.ctx.blobs.open(key)
        await page.go_back()
        await page.reload()
        await expect(page.get_by_role("status")).to_have_count(0)  # nothing left to offer
    finally:
        await context.close()


async def test_an_undo_whose_files_no_longer_fit_says_why_and_works_once_there_is_room(served: Served) -> None:
    user = await make_user(served.ctx)
    await _item_with_a_tag_and_a_file(served.ctx, user.id, "Scans")  # 9 bytes
    context = await served.browser_of(user.id, "desktop")
    page = await context.new_page()
    try:
        await page.goto(f"{served.url}/items")
        await page.get_by_role("link", name="Delete Scans").click()
        await page.get_by_role("button", name="Delete item").click()
        undo_button = page.get_by_role("status").get_by_role("button", name="Undo")
        await expect(undo_button).to_be_visible()
        roomy = served.ctx.settings
        served.ctx.settings = roomy.model_copy(update={"storage_quota": 5})  # the room was used meanwhile
        await undo_button.click()
        await expect(page.get_by_role("heading", name="That cannot be done now")).to_be_visible()
        await expect(page.get_by_text("“Scans” cannot come back: its files (9 bytes) no longer fit in your storage "
                                      "(0 bytes of 5 bytes used). Delete some files, then undo.")).to_be_visible()
        served.ctx.settings = roomy
        await page.goto(f"{served.url}/items")
        await page.get_by_role("region", name="Recently deleted").get_by_role(
            "button", name="Undo deleting “Scans”").click()
        await expect(page.get_by_role("status")).to_have_text("“Scans” is back, as it was.")
    finally:
        await context.close()


async def test_another_person_cannot_undo(served: Served) -> None:
    owner, other = await make_user(served.ctx, name="Ann"), await make_user(served.ctx, name="Bob")
    async with served.ctx.db.session() as session:
        item = await records.create_record(ITEMS, session, owner.id, ItemCreate(name="Ann's secret"))
        gone = await records.delete_record(ITEMS, session, owner.id, item.id)
    context = await served.browser_of(other.id, "desktop")
    page = await context.new_page()
    try:
        await page.goto(f"{served.url}/items?deleted={gone.id}")  # Ann's undo in Bob's address bar
        await expect(page.get_by_role("status")).to_have_count(0)
        await expect(page.get_by_text("Ann's secret")).to_have_count(0)
        token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
        answer = await context.request.post(f"{served.url}/undo/{gone.id}", form={"csrf_token": token or ""},
                                            headers={"Origin": served.url}, max_redirects=0)
        assert answer.status == 404 and "There is nothing to undo" in await answer.text()
        async with served.ctx.db.session() as session:
            offered = await undo.recent(session, owner.id, ITEMS, served.ctx.settings.undo_window)
        assert [d.id for d in offered] == [gone.id]  # Ann still can
    finally:
        await context.close()
