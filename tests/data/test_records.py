"""The owner-scoped data layer for items, clients and tags, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC

import pytest
from sqlalchemy import func, select

from axiom_mcp.context import AppContext
from axiom_mcp.data import records, users
from axiom_mcp.data.kinds import CLIENTS, ITEMS, KINDS, TAGS
from axiom_mcp.data.schemas import (
    ClientCreate,
    ClientUpdate,
    ItemCreate,
    ItemUpdate,
    PageQuery,
    TagCreate,
    TagUpdate,
)
from axiom_mcp.db.tables import client_access_tags, item_tags
from axiom_mcp.errors import NameTaken, NotFoundError, ValidationFailed
from axiom_mcp.ids import new_id
from tests.support.factories import TestUser, make_user

ID = re.compile(r"^[a-z0-9]{15}$")


async def tag(ctx: AppContext, owner: TestUser, name: str) -> str:
    async with ctx.db.session() as session:
        return (await records.create_record(TAGS, session, owner.id, TagCreate(name=name))).id


async def test_records_get_pocketbase_ids_and_utc_timestamps(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        made = await records.create_record(TAGS, session, user.id, TagCreate(name="t"))
    async with ctx.db.session() as session:
        loaded = await records.get_record(TAGS, session, user.id, made.id)
    assert ID.match(loaded.id)
    assert loaded.created.tzinfo is not None and loaded.created.utcoffset() == UTC.utcoffset(None)
    assert loaded == made  # what was returned is exactly what was stored (to the microsecond)


async def test_update_moves_updated_forward_and_keeps_created(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        made = await records.create_record(ITEMS, session, user.id, ItemCreate(name="a", content="c", files=["f"]))
    async with ctx.db.session() as session:
        changed = await records.update_record(ITEMS, session, user.id, made.id, ItemUpdate(content="new"))
    assert (changed.name, changed.content, changed.files) == ("a", "new", ["f"])
    assert changed.created == made.created and changed.updated > made.updated


@pytest.mark.parametrize("kind", ["item", "client", "tag"])
async def test_another_owner_never_reaches_a_record(
    ctx: AppContext, user: TestUser, other_user: TestUser, kind: str
) -> None:
    declared = KINDS[f"{kind}s"]
    model = {"item": ItemCreate, "client": ClientCreate, "tag": TagCreate}[kind]
    update = {"item": ItemUpdate, "client": ClientUpdate, "tag": TagUpdate}[kind]
    async with ctx.db.session() as session:
        theirs = await records.create_record(declared, session, other_user.id, model(name="theirs"))

    for operation in (
        lambda s: records.get_record(declared, s, user.id, theirs.id),
        lambda s: records.update_record(declared, s, user.id, theirs.id, update(name="mine now")),
        lambda s: records.delete_record(declared, s, user.id, theirs.id),
    ):
        with pytest.raises(NotFoundError):
            async with ctx.db.session() as session:
                await operation(session)

    async with ctx.db.session() as session:
        assert (await records.get_record(declared, session, other_user.id, theirs.id)) == theirs
        listed = await records.list_records(declared, session, user.id, PageQuery())
    assert listed.totalItems == 0
    assert (await records.list_records(declared, ctx.db, user.id, PageQuery())).totalItems == 0


@pytest.mark.parametrize("record_id", ["", "x" * 16, "ABC", "a\x00b", "é", "a b", "../x", "1 OR 1=1"])
@pytest.mark.parametrize("kind", ["item", "client", "tag"])
async def test_a_string_that_is_no_id_is_not_found_without_a_database_error(
    ctx: AppContext, user: TestUser, kind: str, record_id: str
) -> None:
    async with ctx.db.session() as session:
        with pytest.raises(NotFoundError):
            await records.get_record(KINDS[f"{kind}s"], session, user.id, record_id)
        with pytest.raises(NotFoundError):
            await records.delete_record(KINDS[f"{kind}s"], session, user.id, record_id)


async def test_tags_must_be_the_owners(ctx: AppContext, user: TestUser, other_user: TestUser) -> None:
    mine, theirs = await tag(ctx, user, "mine"), await tag(ctx, other_user, "theirs")
    for ids in ([theirs], [mine, theirs], [new_id()], [mine, "a\x00"]):
        with pytest.raises(ValidationFailed) as caught:
            async with ctx.db.session() as session:
                await records.create_record(ITEMS, session, user.id, ItemCreate.model_construct(name="x", content="", files=[], tags=ids))
        assert caught.value.field == "tags"
        with pytest.raises(ValidationFailed) as caught:
            async with ctx.db.session() as session:
                await records.create_record(CLIENTS, session, user.id, ClientCreate.model_construct(name="x", accessTags=ids))
        assert caught.value.field == "accessTags"
    async with ctx.db.session() as session:
        assert (await records.list_records(ITEMS, session, user.id, PageQuery())).totalItems == 0
        assert (await records.list_records(CLIENTS, session, user.id, PageQuery())).totalItems == 0


async def test_tags_none_keeps_and_empty_clears(ctx: AppContext, user: TestUser) -> None:
    a = await tag(ctx, user, "a")
    async with ctx.db.session() as session:
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="x", tags=[a]))
        client = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="x", accessTags=[a]))
    async with ctx.db.session() as session:
        assert (await records.update_record(ITEMS, session, user.id, item.id, ItemUpdate(name="y"))).tags == [a]
        assert (await records.update_record(CLIENTS, session, user.id, client.id, ClientUpdate(name="y"))).accessTags == [a]
    async with ctx.db.session() as session:
        assert (await records.update_record(ITEMS, session, user.id, item.id, ItemUpdate(tags=[]))).tags == []
        assert (await records.update_record(CLIENTS, session, user.id, client.id, ClientUpdate(accessTags=[]))).accessTags == []


# --- tag names: unique per person, whatever their case (issue 14) --------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [("work", "work"), ("work", "Work"), ("work", "  WORK\t"), ("Émoji", "éMOJI"), ("Straße", "STRASSE"),
     ("café", "cafe\u0301")],
    ids=["same", "case", "spaces", "beyond-ascii", "folding", "decomposed"],
)
async def test_a_tag_name_the_person_has_is_refused_whatever_its_case(
    ctx: AppContext, user: TestUser, first: str, second: str
) -> None:
    kept = await tag(ctx, user, first)
    with pytest.raises(NameTaken) as refused:
        await tag(ctx, user, second)
    assert (refused.value.field, refused.value.holder, refused.value.status_code) == ("name", kept, 409)
    assert f"You already have a tag named {first!r}" in refused.value.message
    async with ctx.db.session() as session:
        assert [t.id for t in (await records.list_records(TAGS, session, user.id, PageQuery())).items] == [kept]


async def test_a_tag_cannot_be_renamed_to_another_of_the_persons_tags(ctx: AppContext, user: TestUser) -> None:
    work, home = await tag(ctx, user, "work"), await tag(ctx, user, "home")
    with pytest.raises(NameTaken) as refused:
        async with ctx.db.session() as session:
            await records.update_record(TAGS, session, user.id, home, TagUpdate(name=" WORK"))
    assert (refused.value.field, refused.value.holder) == ("name", work)
    async with ctx.db.session() as session:  # its own name in another case is no clash
        assert (await records.update_record(TAGS, session, user.id, work, TagUpdate(name="Work"))).name == "Work"
        assert (await records.update_record(TAGS, session, user.id, work, TagUpdate(name="Work"))).name == "Work"
        assert (await records.get_record(TAGS, session, user.id, home)).name == "home"


async def test_another_person_may_use_the_same_tag_name(ctx: AppContext, user: TestUser, other_user: TestUser) -> None:
    assert await tag(ctx, user, "work") != await tag(ctx, other_user, "Work")


async def test_of_two_concurrent_creates_of_one_name_the_database_refuses_the_second_clearly(
    ctx: AppContext, user: TestUser
) -> None:
    """The second write cannot see the first (not committed yet) when it looks: the unique index
    decides, and the loser gets the same error as a write that came later (never a 500)."""
    async with ctx.db.session() as first:
        winner = await records.create_record(TAGS, first, user.id, TagCreate(name="Work"))
        loser = asyncio.create_task(tag(ctx, user, "WORK"))
        await asyncio.sleep(0.5)  # it checked, found nothing, and now waits for the first write's lock
        assert not loser.done()
    with pytest.raises(NameTaken) as refused:
        await loser
    assert (refused.value.field, refused.value.holder) == ("name", winner.id)
    async with ctx.db.session() as session:
        assert (await records.list_records(TAGS, session, user.id, PageQuery())).totalItems == 1


async def _links(ctx: AppContext, tag_id: str) -> int:
    async with ctx.db.session() as session:
        in_items = await session.scalar(select(func.count()).select_from(item_tags).where(item_tags.c.tag_id == tag_id))
        in_clients = await session.scalar(
            select(func.count()).select_from(client_access_tags).where(client_access_tags.c.tag_id == tag_id)
        )
    return int(in_items or 0) + int(in_clients or 0)


async def test_deleting_a_tag_removes_it_from_items_and_clients(ctx: AppContext, user: TestUser) -> None:
    keep, drop = await tag(ctx, user, "keep"), await tag(ctx, user, "drop")
    async with ctx.db.session() as session:
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="i", tags=[keep, drop]))
        client = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="c", accessTags=[drop, keep]))
    assert await _links(ctx, drop) == 2

    async with ctx.db.session() as session:
        await records.delete_record(TAGS, session, user.id, drop)
    async with ctx.db.session() as session:
        assert (await records.get_record(ITEMS, session, user.id, item.id)).tags == [keep]
        assert (await records.get_record(CLIENTS, session, user.id, client.id)).accessTags == [keep]
    assert await _links(ctx, drop) == 0
    assert await _links(ctx, keep) == 2


async def test_deleting_a_record_removes_its_links_but_not_its_tags(ctx: AppContext, user: TestUser) -> None:
    t = await tag(ctx, user, "t")
    async with ctx.db.session() as session:
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="i", tags=[t]))
        client = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="c", accessTags=[t]))
    async with ctx.db.session() as session:
        await records.delete_record(ITEMS, session, user.id, item.id)
        await records.delete_record(CLIENTS, session, user.id, client.id)
    assert await _links(ctx, t) == 0
    async with ctx.db.session() as session:
        assert (await records.get_record(TAGS, session, user.id, t)).name == "t"


async def test_deleting_a_user_removes_everything_they_own(ctx: AppContext) -> None:
    gone, stays = await make_user(ctx), await make_user(ctx)
    for person in (gone, stays):
        t = await tag(ctx, person, "t")
        async with ctx.db.session() as session:
            await records.create_record(ITEMS, session, person.id, ItemCreate(name="i", tags=[t]))
            await records.create_record(CLIENTS, session, person.id, ClientCreate(name="c", accessTags=[t]))
    async with ctx.db.session() as session:
        await users.delete_user(session, gone.email)
    async with ctx.db.session() as session:
        for kind in ("items", "clients", "tags"):
            assert (await records.list_records(KINDS[kind], session, gone.id, PageQuery())).totalItems == 0
            assert (await records.list_records(KINDS[kind], session, stays.id, PageQuery())).totalItems == 1


async def test_pages_count_and_order(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        made = [await records.create_record(TAGS, session, user.id, TagCreate(name=f"t{n}")) for n in range(7)]
    for source in ("session", "database"):
        async with ctx.db.session() as session:
            reader = session if source == "session" else ctx.db
            first = await records.list_records(TAGS, reader, user.id, PageQuery(page=1, perPage=3))
            last = await records.list_records(TAGS, reader, user.id, PageQuery(page=3, perPage=3))
            beyond = await records.list_records(TAGS, reader, user.id, PageQuery(page=9, perPage=3))
        assert (first.totalItems, first.totalPages) == (7, 3)
        assert [t.id for t in first.items] == [t.id for t in made[::-1][:3]]
        assert [t.id for t in last.items] == [made[0].id]
        assert beyond.items == [] and beyond.totalItems == 7


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("report", ["Q3 Report", "report draft"], id="case-insensitive"),
        pytest.param("50%", ["50% off"], id="percent-is-literal"),
        pytest.param("a_b", ["a_b"], id="underscore-is-literal"),
        pytest.param("back\\slash", ["back\\slash"], id="backslash-is-literal"),
        pytest.param("ünï", ["Ünïcode"], id="unicode-case"),
        pytest.param("ÄRZTE", ["Ärzte"], id="unicode-upper"),
        pytest.param("'; DROP TABLE items; --", [], id="quotes"),
    ],
)
async def test_the_text_filter(ctx: AppContext, user: TestUser, q: str, expected: list[str]) -> None:
    """Clients and tags are searched by a substring of their name (items by words: tests/data/test_fulltext.py)."""
    names = ["Q3 Report", "report draft", "50% off", "500 off", "a_b", "axb", "back\\slash", "backxslash", "Ünïcode", "Ärzte"]
    async with ctx.db.session() as session:
        for name in names:
            await records.create_record(CLIENTS, session, user.id, ClientCreate(name=name))
    async with ctx.db.session() as session:
        in_session = await records.list_records(CLIENTS, session, user.id, PageQuery(q=q))
    page = await records.list_records(CLIENTS, ctx.db, user.id, PageQuery(q=q))
    assert page == in_session
    found = sorted(i.name for i in page.items)
    assert found == sorted(expected)
    assert page.totalItems == len(expected)
