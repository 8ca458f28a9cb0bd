"""Full-text search over items (data/fulltext.py through data/lists.py), on SQLite and PostgreSQL:
relevance, accents and case, tag and file names, the documents following every change, the tag
filter and the sorts, a restricted view, and hostile queries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from axiom_mcp.blobs.folder import FolderStore
from axiom_mcp.context import AppContext
from axiom_mcp.data import files, records
from axiom_mcp.data.access import View
from axiom_mcp.data.fulltext import Query, words
from axiom_mcp.data.kinds import ITEMS, TAGS
from axiom_mcp.data.lists import _statements
from axiom_mcp.data.schemas import ItemCreate, ItemUpdate, PageQuery, TagCreate, TagUpdate
from axiom_mcp.db.tables import Item
from axiom_mcp.errors import ValidationFailed
from tests.support.factories import TestUser


async def _names(ctx: AppContext, who: str | View, **query: object) -> list[str]:
    page = await records.list_records(ITEMS, ctx.db, who, PageQuery(perPage=100, **query))  # type: ignore[arg-type]
    return [item.name for item in page.items]


async def _item(ctx: AppContext, user: TestUser, name: str, content: str = "", tags: list[str] | None = None,
                *, age: int = 0) -> str:
    async with ctx.db.session() as session:
        made = await records.create_record(ITEMS, session, user.id, ItemCreate(
            name=name, content=content, tags=tags or [], format="markdown"))
        stamp = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(days=age)
        await session.execute(update(Item).where(Item.id == made.id).values(created=stamp, updated=stamp))
    return made.id


async def _tag(ctx: AppContext, user: TestUser, name: str) -> str:
    async with ctx.db.session() as session:
        return (await records.create_record(TAGS, session, user.id, TagCreate(name=name))).id


def test_words_fold_accents_case_and_punctuation() -> None:
    assert words("Émoji-Report: ÆSIR straße ＡＢＣ") == ["emoji", "report", "æsir", "strasse", "abc"]
    assert Query.of('"; DROP TABLE items; -- OR NEAR(a b) *').terms == ("drop", "table", "items", "or", "near", "a", "b")
    assert Query.of("!!! ''' ***").terms == ()
    assert Query.of("a b").match("sqlite") == '"a" "b"*'
    assert Query.of("a b").match("postgresql") == "'a' & 'b':*"


async def test_the_exact_name_comes_first_then_names_then_the_rest(ctx: AppContext, user: TestUser) -> None:
    await _item(ctx, user, "Notes about a report", "the quarterly report, report, report", age=1)
    await _item(ctx, user, "Quarterly report", age=3)
    await _item(ctx, user, "Other", "mentions the Quarterly report once", age=0)
    await _item(ctx, user, "The quarterly report draft", age=2)
    found = await _names(ctx, user.id, q="quarterly REPORT")
    assert found[0] == "Quarterly report"
    assert found[1] == "The quarterly report draft"  # the only other name with both words
    assert set(found[2:]) == {"Notes about a report", "Other"}


async def test_accents_and_case_are_ignored_both_ways(ctx: AppContext, user: TestUser) -> None:
    await _item(ctx, user, "Émoji guide")
    await _item(ctx, user, "plain", "Ärzte und Straße")
    assert await _names(ctx, user.id, q="EMOJI") == ["Émoji guide"]
    assert await _names(ctx, user.id, q="émoji") == ["Émoji guide"]
    assert await _names(ctx, user.id, q="arzte strasse") == ["plain"]
    assert await _names(ctx, user.id, q="emo") == ["Émoji guide"]  # the last word is a prefix
    assert await _names(ctx, user.id, q="emo guide") == []  # ... only the last


async def test_tag_names_and_content_words_find_their_items(ctx: AppContext, user: TestUser) -> None:
    work = await _tag(ctx, user, "Work")
    await _item(ctx, user, "tagged", tags=[work])
    await _item(ctx, user, "written", "Some **bold** words about *workflow*")
    await _item(ctx, user, "neither", "<p>nothing</p>")
    assert sorted(await _names(ctx, user.id, q="work")) == ["tagged", "written"]
    assert await _names(ctx, user.id, q="bold words") == ["written"]
    assert await _names(ctx, user.id, q="strong") == []  # the markup is not searched, only its text


async def test_the_document_follows_tag_renames_and_deletes(ctx: AppContext, user: TestUser) -> None:
    tag = await _tag(ctx, user, "alpha")
    item = await _item(ctx, user, "carrier", tags=[tag])
    assert await _names(ctx, user.id, q="alpha") == ["carrier"]
    async with ctx.db.session() as session:
        await records.update_record(TAGS, session, user.id, tag, TagUpdate(name="Omega"))
    assert await _names(ctx, user.id, q="alpha") == []
    assert await _names(ctx, user.id, q="omega") == ["carrier"]
    async with ctx.db.session() as session:
        await records.update_record(ITEMS, session, user.id, item, ItemUpdate(name="renamed", content="fresh words"))
    assert await _names(ctx, user.id, q="fresh") == ["renamed"]
    assert await _names(ctx, user.id, q="carrier") == []
    async with ctx.db.session() as session:
        await records.delete_record(TAGS, session, user.id, tag)
    assert await _names(ctx, user.id, q="omega") == []
    async with ctx.db.session() as session:
        await records.delete_record(ITEMS, session, user.id, item)
    assert await _names(ctx, user.id, q="fresh") == []


async def test_the_document_follows_uploads_and_file_deletes(ctx: AppContext, user: TestUser, tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "files")
    item = await _item(ctx, user, "holder")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"hello"

    made = await files.add_file(ctx.db, store, ctx.settings, user.id, item, "Résumé-2026.pdf", chunks())
    assert await _names(ctx, user.id, q="resume 2026") == ["holder"]
    await files.delete_file(ctx.db, store, user.id, made.id)
    assert await _names(ctx, user.id, q="resume") == []
    await store.close()


async def test_nobody_finds_another_persons_items(ctx: AppContext, user: TestUser, other_user: TestUser) -> None:
    await _item(ctx, other_user, "secret zebra")
    assert await _names(ctx, user.id, q="zebra") == []
    assert await _names(ctx, other_user.id, q="zebra") == ["secret zebra"]


async def test_a_restricted_view_searches_and_filters_only_its_items(ctx: AppContext, user: TestUser) -> None:
    shared, private = await _tag(ctx, user, "shared"), await _tag(ctx, user, "private")
    await _item(ctx, user, "lion shared", tags=[shared], age=1)
    await _item(ctx, user, "lion private", tags=[private])
    await _item(ctx, user, "both", tags=[shared, private])
    view = View(user.id, frozenset({shared}))
    assert await _names(ctx, view, q="lion") == ["lion shared"]
    # A tag outside the view finds nothing, not even a visible item carrying it; the view's own
    # tags are not searched either (the tag filter is for them).
    assert await _names(ctx, view, q="private") == []
    assert await _names(ctx, user.id, q="private") == ["lion private", "both"]
    assert await _names(ctx, view, tag="shared") == ["both", "lion shared"]
    for outside in ("private", private, "nope"):
        with pytest.raises(ValidationFailed) as caught:
            await _names(ctx, view, tag=outside)
        assert caught.value.field == "tag"


async def test_the_tag_filter_takes_an_id_or_a_name_in_any_case(ctx: AppContext, user: TestUser,
                                                                other_user: TestUser) -> None:
    red = await _tag(ctx, user, "Röt")
    theirs = await _tag(ctx, other_user, "theirs")
    await _item(ctx, user, "one", tags=[red], age=2)
    await _item(ctx, user, "two", tags=[red], age=1)
    await _item(ctx, user, "three")
    assert await _names(ctx, user.id, tag=red) == ["two", "one"]
    assert await _names(ctx, user.id, tag="RÖT") == ["two", "one"]
    assert await _names(ctx, user.id, tag="röt", q="one") == ["one"]
    for unknown in ("nope", theirs, "theirs", "x" * 255):
        with pytest.raises(ValidationFailed) as caught:
            await _names(ctx, user.id, tag=unknown)
        assert caught.value.field == "tag"
    with pytest.raises(ValidationFailed):
        await records.list_records(TAGS, ctx.db, user.id, PageQuery(tag="röt"))


@pytest.mark.parametrize("sort, expected", [
    (None, ["b", "a", "C", "é"]),
    ("-created", ["b", "a", "C", "é"]),
    ("created", ["é", "C", "a", "b"]),
    ("name", ["a", "b", "C", "é"]),
    ("-updated", ["é", "C", "b", "a"]),
])
async def test_the_sorts(ctx: AppContext, user: TestUser, sort: str | None, expected: list[str]) -> None:
    ids = {name: await _item(ctx, user, name, "sortable", age=age) for name, age in (("a", 1), ("b", 0), ("C", 2), ("é", 3))}
    async with ctx.db.session() as session:
        for name, hours in (("é", 4), ("C", 3), ("b", 2), ("a", 1)):
            stamp = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(hours=hours)
            await session.execute(update(Item).where(Item.id == ids[name]).values(updated=stamp))
    assert await _names(ctx, user.id, sort=sort) == expected
    assert await _names(ctx, user.id, sort=sort, q="sortable") == (
        expected if sort is not None else await _names(ctx, user.id, q="sortable"))
    second = (await records.list_records(ITEMS, ctx.db, user.id, PageQuery(perPage=2, page=2, sort=sort))).items  # type: ignore[arg-type]
    assert [i.name for i in second] == expected[2:]


@pytest.mark.parametrize("hostile", [
    '"', "'", "*", "NEAR(a b)", "a OR b", "a AND NOT b", "-a", "a:*", "!(a | b)", "\\", "{name}: a", "^a",
    "%", "_", "🙂", "...", "a" * 200, "é" * 200, " ".join(["w"] * 100),
], ids=lambda value: repr(value[:12]))
async def test_hostile_queries_give_sane_results(ctx: AppContext, user: TestUser, hostile: str) -> None:
    await _item(ctx, user, "a b", "plain words")
    page = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(q=hostile))
    assert page.totalItems == len(page.items) <= 1


async def test_search_inside_a_session_sees_its_own_writes(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        await records.create_record(ITEMS, session, user.id, ItemCreate(name="uncommitted walrus"))
        page = await records.list_records(ITEMS, session, user.id, PageQuery(q="walrus"))
        assert [i.name for i in page.items] == ["uncommitted walrus"]
        await session.rollback()
    assert await _names(ctx, user.id, q="walrus") == []


async def test_a_full_page_of_a_search_counts_every_hit(ctx: AppContext, user: TestUser) -> None:
    for n in range(5):
        await _item(ctx, user, f"counted {n}", age=n)
    page = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(q="counted", perPage=2))
    assert (page.totalItems, page.totalPages, len(page.items)) == (5, 3, 2)


async def test_sqlite_reads_the_fts_index_first(ctx: AppContext, user: TestUser, db_kind: str) -> None:
    """Started from the owner's documents, SQLite would run the MATCH once per item (a common word's
    count took minutes on 100,000 items): the FTS5 table leads both statements."""
    if db_kind != "sqlite":
        pytest.skip("SQLite's join order")
    query = Query.of("alpha beta")
    page, count = _statements(ITEMS, "sqlite", False, False, False, 0, 0, None, len(query.terms))
    where = [query.match("sqlite"), user.id]
    for sql, args in ((page, [*query.rank_args("sqlite"), *where, 20, 0]), (count, where)):
        plan = [row[3] for row in await ctx.db.reads.fetch(f"EXPLAIN QUERY PLAN {sql}", args)]
        scans = [step for step in plan if step.startswith(("SCAN", "SEARCH")) and " r " not in f" {step} "]
        assert scans[0].startswith("SCAN item_search_fts VIRTUAL TABLE"), plan


async def test_a_full_page_of_a_tag_counts_every_tagged_item(ctx: AppContext, user: TestUser, other_user: TestUser) -> None:
    tag = await _tag(ctx, user, "counted")
    other = await _tag(ctx, user, "other")
    theirs = await _tag(ctx, other_user, "counted")
    for n in range(5):
        await _item(ctx, user, f"tagged {n}", tags=[tag, other] if n % 2 else [tag], age=n)
    await _item(ctx, user, "other only", tags=[other])
    await _item(ctx, other_user, "theirs", tags=[theirs])
    page = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(tag=tag, perPage=2))
    assert (page.totalItems, page.totalPages) == (5, 3)
    page = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(tag="COUNTED", perPage=2))  # its name, any case
    assert (page.totalItems, page.totalPages) == (5, 3)
    view = View(user.id, frozenset({other}))
    page = await records.list_records(ITEMS, ctx.db, view, PageQuery(tag="other", perPage=2))
    assert (page.totalItems, [i.name for i in page.items]) == (3, ["other only", "tagged 1"])


async def test_matches_rank_by_where_the_words_are_name_tags_files_then_text(
    ctx: AppContext, user: TestUser, tmp_path: Path
) -> None:
    """After the name's tiers, an item tagged with the words comes before one with a file so named,
    which comes before one holding them only in its text (on both databases; a restricted
    connection's ranking ignores tag names, as its matching does)."""
    store = FolderStore(tmp_path / "files")
    lisbon = await _tag(ctx, user, "Lisbon")
    seen = await _tag(ctx, user, "seen")
    text_old = await _item(ctx, user, "in the text, older", "a week in **Lisbon**", [seen], age=9)
    text_new = await _item(ctx, user, "in the text, newer", "Lisbon again", [seen], age=1)
    tagged = await _item(ctx, user, "tagged", "", [lisbon, seen], age=5)
    filed = await _item(ctx, user, "with a file", "", [seen], age=3)
    named = await _item(ctx, user, "Lisbon trip", "", [seen], age=7)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"%PDF-1.4"

    await files.add_file(ctx.db, store, ctx.settings, user.id, filed, "lisbon-map.pdf", chunks())
    found = await _names(ctx, user.id, q="lisbon")
    assert found[:3] == ["Lisbon trip", "tagged", "with a file"]
    assert sorted(found[3:]) == ["in the text, newer", "in the text, older"]
    del text_old, text_new, tagged, named
    restricted = View(user.id, frozenset({seen}))  # "Lisbon" is not its tag: it neither finds nor ranks
    found = await _names(ctx, restricted, q="lisbon")
    assert found[:2] == ["Lisbon trip", "with a file"]
    assert sorted(found[2:]) == ["in the text, newer", "in the text, older"]
