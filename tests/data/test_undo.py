"""Undoing a delete (data/undo.py): the record comes back whole (same id, fields, tags, links, files),
for its owner only, once, within the window; after it, cleanup removes the snapshot and the bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from axiom_mcp.context import AppContext
from axiom_mcp.data import access, files, records, undo
from axiom_mcp.data.kinds import CLIENTS, ITEMS, TAGS
from axiom_mcp.data.schemas import ClientCreate, ItemCreate, TagCreate
from axiom_mcp.db.tables import DeletedRecord, OAuthConsent
from axiom_mcp.errors import ConflictError, NotFoundError
from axiom_mcp.ids import utcnow
from tests.support.factories import TestUser, end_undo_windows

APP = "https://claude.ai/oauth/mcp-oauth-client-metadata"


async def _bytes(ctx: AppContext, key: str) -> bytes:
    return b"".join([chunk async for chunk in await ctx.blobs.open(key)])


async def _stream(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_an_item_comes_back_whole_once_with_its_tags_and_files(ctx: AppContext, user: TestUser) -> None:
    window = ctx.settings.undo_window
    async with ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        home = await records.create_record(TAGS, session, user.id, TagCreate(name="home"))
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(
            name="Plan", content="**bold** move", tags=[work.id, home.id], files=["a.txt"]))
    attached = await files.add_file(ctx.db, ctx.blobs, ctx.settings, user.id, item.id, "a.txt", _stream(b"bytes"))
    async with ctx.db.session() as session:
        before = await records.get_record(ITEMS, session, user.id, item.id)
        gone = await records.delete_record(ITEMS, session, user.id, item.id)
    assert (gone.kind, gone.record_id, gone.name) == ("items", item.id, "Plan")
    async with ctx.db.session() as session:
        with pytest.raises(NotFoundError):
            await records.get_record(ITEMS, session, user.id, item.id)
        assert [d.id for d in await undo.recent(session, user.id, ITEMS, window)] == [gone.id]
    assert await _bytes(ctx, f"{user.id}/{attached.id}") == b"bytes"  # kept while undo may want it

    async with ctx.db.session() as session:
        back = await undo.restore(session, user.id, gone.id, window, storage_quota=ctx.settings.storage_quota)
    assert (back.kind, back.record_id, back.name) == (ITEMS, item.id, "Plan")
    async with ctx.db.session() as session:
        assert await records.get_record(ITEMS, session, user.id, item.id) == before  # same id, fields, dates, tags
        assert await files.list_files(session, user.id, item.id) == [attached]
        assert await undo.recent(session, user.id, ITEMS, window) == []
        download = await files.open_file(session, ctx.blobs, user.id, attached.id)
        assert b"".join([c async for c in download.chunks]) == b"bytes"
    async with ctx.db.session() as session:
        with pytest.raises(NotFoundError, match="nothing to undo"):  # once
            await undo.restore(session, user.id, gone.id, window, storage_quota=ctx.settings.storage_quota)


async def test_an_item_whose_files_no_longer_fit_stays_deleted_and_says_why(ctx: AppContext, user: TestUser) -> None:
    """Deleting an item frees its files' room; a later upload may take it. Undo then refuses, whole."""
    window, quota = ctx.settings.undo_window, 3000
    settings = ctx.settings.model_copy(update={"storage_quota": quota})
    async with ctx.db.session() as session:
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="Scans"))
        other = await records.create_record(ITEMS, session, user.id, ItemCreate(name="Later"))
    await files.add_file(ctx.db, ctx.blobs, settings, user.id, item.id, "a.bin", _stream(b"a" * 2000))
    async with ctx.db.session() as session:
        gone = await records.delete_record(ITEMS, session, user.id, item.id)
    await files.add_file(ctx.db, ctx.blobs, settings, user.id, other.id, "b.bin", _stream(b"b" * 1500))

    with pytest.raises(ConflictError, match=r"“Scans” cannot come back: its files \(2 KB\) no longer fit "
                                            r"in your storage \(1\.5 KB of 2\.9 KB used\)\. Delete some files"):
        async with ctx.db.session() as session:  # as a page's: the failure leaves the transaction
            await undo.restore(session, user.id, gone.id, window, storage_quota=quota)
    async with ctx.db.session() as session:  # nothing came back, and the undo is still offered
        with pytest.raises(NotFoundError):
            await records.get_record(ITEMS, session, user.id, item.id)
        assert [d.id for d in await undo.recent(session, user.id, ITEMS, window)] == [gone.id]
        assert (await files.storage_usage(session, settings, user.id)).used == 1500
    async with ctx.db.session() as session:  # with room again, it comes back
        await undo.restore(session, user.id, gone.id, window, storage_quota=3500)
        assert [f.name for f in await files.list_files(session, user.id, item.id)] == ["a.bin"]


async def test_only_the_owner_can_undo(ctx: AppContext, user: TestUser, other_user: TestUser) -> None:
    window = ctx.settings.undo_window
    async with ctx.db.session() as session:
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="Mine"))
        gone = await records.delete_record(ITEMS, session, user.id, item.id)
    async with ctx.db.session() as session:
        with pytest.raises(NotFoundError):
            await undo.get(session, other_user.id, gone.id, window)
        with pytest.raises(NotFoundError):
            await undo.restore(session, other_user.id, gone.id, window, storage_quota=ctx.settings.storage_quota)
        assert await undo.recent(session, other_user.id, ITEMS, window) == []
        with pytest.raises(NotFoundError):
            await undo.restore(session, user.id, "not an id", window, storage_quota=ctx.settings.storage_quota)
    async with ctx.db.session() as session:  # the owner still can
        await undo.restore(session, user.id, gone.id, window, storage_quota=ctx.settings.storage_quota)
        assert (await records.get_record(ITEMS, session, user.id, item.id)).name == "Mine"


async def test_after_the_window_it_is_too_late_and_cleanup_removes_the_files(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="Old news"))
    attached = await files.add_file(ctx.db, ctx.blobs, ctx.settings, user.id, item.id, "b.txt", _stream(b"old"))
    async with ctx.db.session() as session:
        gone = await records.delete_record(ITEMS, session, user.id, item.id)
    key = f"{user.id}/{attached.id}"
    async with ctx.db.session() as session:  # the orphan sweep leaves a snapshot's bytes alone
        await files.sweep_orphans(session, ctx.blobs, utcnow() + timedelta(days=1))
    assert await _bytes(ctx, key) == b"old"

    short = timedelta(microseconds=1)
    async with ctx.db.session() as session:
        with pytest.raises(undo.UndoExpired, match="Too late to undo: “Old news” was deleted more than"):
            await undo.restore(session, user.id, gone.id, short, storage_quota=ctx.settings.storage_quota)
        until = (await undo.get(session, user.id, gone.id, short)).until
        assert until is not None and until <= utcnow()
    report = await end_undo_windows(ctx)
    assert report.deleted_records >= 1 and report.files >= 1
    with pytest.raises(Exception):  # noqa: B017 - BlobMissing, whatever the backend
        await ctx.blobs.open(key)
    async with ctx.db.session() as session:
        assert await session.scalar(select(DeletedRecord.id).where(DeletedRecord.id == gone.id)) is None
        with pytest.raises(NotFoundError):
            await undo.restore(session, user.id, gone.id, ctx.settings.undo_window, storage_quota=ctx.settings.storage_quota)


async def test_a_tag_comes_back_on_its_items_and_clients_except_those_deleted_since(
    ctx: AppContext, user: TestUser
) -> None:
    window = ctx.settings.undo_window
    async with ctx.db.session() as session:
        tag = await records.create_record(TAGS, session, user.id, TagCreate(name="shared"))
        kept = await records.create_record(ITEMS, session, user.id, ItemCreate(name="kept", tags=[tag.id]))
        dropped = await records.create_record(ITEMS, session, user.id, ItemCreate(name="dropped", tags=[tag.id]))
        client = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="Acme", accessTags=[tag.id]))
        gone = await records.delete_record(TAGS, session, user.id, tag.id)
    async with ctx.db.session() as session:
        assert (await records.get_record(ITEMS, session, user.id, kept.id)).tags == []
        await records.delete_record(ITEMS, session, user.id, dropped.id)
    async with ctx.db.session() as session:
        await undo.restore(session, user.id, gone.id, window, storage_quota=ctx.settings.storage_quota)
    async with ctx.db.session() as session:
        assert (await records.get_record(TAGS, session, user.id, tag.id)).name == "shared"
        assert (await records.get_record(ITEMS, session, user.id, kept.id)).tags == [tag.id]
        assert (await records.get_record(CLIENTS, session, user.id, client.id)).accessTags == [tag.id]
        with pytest.raises(NotFoundError):
            await records.get_record(ITEMS, session, user.id, dropped.id)


async def test_a_client_profile_comes_back_to_the_app_restricted_to_it(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        profile = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="Claude", accessTags=[work.id]))
        session.add(OAuthConsent(user_id=user.id, client_id=APP, scopes="items:read", restricted=True,
                                 profile_id=profile.id))
        await session.flush()
        gone = await records.delete_record(CLIENTS, session, user.id, profile.id)
    async with ctx.db.session() as session:
        assert (await access.connection_view(session, user.id, APP)).access_tags == frozenset()  # sees nothing
        back = await undo.restore(session, user.id, gone.id, ctx.settings.undo_window, storage_quota=ctx.settings.storage_quota)
    assert back.apps == (APP,)
    async with ctx.db.session() as session:
        view = await access.connection_view(session, user.id, APP)
    assert view.profile_id == profile.id and view.access_tags == {work.id}


async def test_an_app_restricted_to_a_profile_deletes_and_the_person_gets_every_tag_back(
    ctx: AppContext, user: TestUser
) -> None:
    async with ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        private = await records.create_record(TAGS, session, user.id, TagCreate(name="private"))
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="Both", tags=[work.id, private.id]))
        app_view = access.View(user.id, frozenset({work.id}), None)
        gone = await records.delete_record(ITEMS, session, app_view, item.id)
    async with ctx.db.session() as session:
        await undo.restore(session, user.id, gone.id, ctx.settings.undo_window, storage_quota=ctx.settings.storage_quota)
        assert sorted((await records.get_record(ITEMS, session, user.id, item.id)).tags) == sorted([work.id, private.id])


async def test_a_tag_whose_name_was_taken_since_cannot_come_back_and_says_why(ctx: AppContext, user: TestUser) -> None:
    """Tag names are unique per person (any case): undoing "work" after a new "Work" is a clear conflict,
    and the snapshot stays for an undo once the new one is renamed."""
    from axiom_mcp.data.schemas import TagUpdate
    from axiom_mcp.errors import ConflictError

    window = ctx.settings.undo_window
    async with ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        gone = await records.delete_record(TAGS, session, user.id, work.id)
    async with ctx.db.session() as session:
        newer = await records.create_record(TAGS, session, user.id, TagCreate(name="Work"))
    with pytest.raises(ConflictError, match="name"):
        async with ctx.db.session() as session:
            await undo.restore(session, user.id, gone.id, window, storage_quota=ctx.settings.storage_quota)
    async with ctx.db.session() as session:
        await records.update_record(TAGS, session, user.id, newer.id, TagUpdate(name="work (new)"))
    async with ctx.db.session() as session:
        await undo.restore(session, user.id, gone.id, window, storage_quota=ctx.settings.storage_quota)
        assert (await records.get_record(TAGS, session, user.id, work.id)).name == "work"


async def test_what_comes_back_is_found_by_search_again(ctx: AppContext, user: TestUser) -> None:
    """An item's search document goes with it (data/fulltext.py); undo brings it back, and a tag's
    name back into its items' documents."""
    from axiom_mcp.data.schemas import PageQuery

    window = ctx.settings.undo_window

    async def found(q: str) -> list[str]:
        return [i.id for i in (await records.list_records(ITEMS, ctx.db, user.id, PageQuery(q=q))).items]

    async with ctx.db.session() as session:
        travel = await records.create_record(TAGS, session, user.id, TagCreate(name="Voyages"))
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(
            name="Lisbon", content="pastéis de nata", tags=[travel.id]))
    async with ctx.db.session() as session:
        gone_item = await records.delete_record(ITEMS, session, user.id, item.id)
    assert await found("pasteis") == []
    async with ctx.db.session() as session:
        await undo.restore(session, user.id, gone_item.id, window, storage_quota=ctx.settings.storage_quota)
    assert await found("pasteis") == [item.id]
    assert await found("voyages") == [item.id]

    async with ctx.db.session() as session:
        gone_tag = await records.delete_record(TAGS, session, user.id, travel.id)
    assert await found("voyages") == []
    async with ctx.db.session() as session:
        await undo.restore(session, user.id, gone_tag.id, window, storage_quota=ctx.settings.storage_quota)
    assert await found("voyages") == [item.id]
