"""Rank marks (data/marks.py): every deep items page is exactly the plain OFFSET answer, on both
databases, with ties in ``created``, after inserts and deletes, and across two ``Database``s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.caches import database_caches
from axiom_mcp.data.counts import CountCache
from axiom_mcp.data.lists import _statements
from axiom_mcp.data.marks import MarksCache, marks_cache
from axiom_mcp.data.schemas import ItemCreate, ItemUpdate, PageQuery
from axiom_mcp.db.engine import Database
from axiom_mcp.db.reads import dollar_params
from axiom_mcp.db.tables import Item, User
from axiom_mcp.ids import new_id
from tests.support.factories import TestUser, make_user

BLOCK = 64
COUNT = 3000
BASE = datetime(2025, 3, 1, tzinfo=UTC)


def _no_marks() -> MarksCache:
    """A cache whose block no test reaches: every page is the plain OFFSET statement."""
    return MarksCache(block=10**9)


@pytest.fixture
async def dbs(ctx: AppContext) -> AsyncIterator[tuple[Database, Database, Database]]:
    """(writer, reader, plain): two marked Databases and one without marks, on the run's database.

    Totals are counted every time (no CountCache): the count cache's own, time-bounded trade is
    tested in test_counts.py; here every answer must be exact at once."""
    made = [Database(ctx.settings, database_caches(counts=CountCache(seconds=0), marks=marks))
            for marks in (MarksCache(BLOCK), MarksCache(BLOCK), _no_marks())]
    try:
        yield made[0], made[1], made[2]
    finally:
        for db in made:
            await db.close()


def _rows(user_id: str, count: int, start: datetime, step_every: int) -> list[dict[str, Any]]:
    """``count`` items, ``step_every`` of them per timestamp (ties), some stamps with a fraction."""
    rows = []
    for n in range(count):
        created = start + timedelta(seconds=n // step_every, microseconds=(n // step_every) % 3 * 250_000)
        rows.append({"id": new_id(), "user_id": user_id, "name": f"item {n}", "content": "", "files": [],
                     "created": created, "updated": created})
    return rows


async def _bulk(db: Database, user_id: str, rows: list[dict[str, Any]]) -> None:
    """Rows written straight into the table, a write path outside records.py: the database moves
    the owner's version itself."""
    async with db.session() as session:
        await session.execute(insert(Item), rows)


async def _order(db: Database, user_id: str) -> list[str]:
    async with db.engine.connect() as conn:
        result = await conn.execute(
            select(Item.id).where(Item.user_id == user_id).order_by(Item.created.desc(), Item.id.desc())
        )
        return list(result.scalars())


async def _version(db: Database, user_id: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(User.items_version).where(User.id == user_id))).scalar_one())


async def _check_pages(reader: Database, plain: Database, user_id: str, per_page: int,
                       pages: list[int] | None = None) -> None:
    """The reader's pages equal the plain OFFSET statement's (whole dicts) and the order itself."""
    order = await _order(plain, user_id)
    last = -(-len(order) // per_page)
    for page in pages if pages is not None else range(1, last + 2):  # and one past the end
        query = PageQuery(page=page, perPage=per_page)
        got = await records.list_records(ITEMS, reader, user_id, query)
        assert got == await records.list_records(ITEMS, plain, user_id, query), (page, per_page)
        assert [i.id for i in got.items] == order[(page - 1) * per_page : page * per_page], (page, per_page)
        assert got.totalItems == len(order)
        assert got.totalPages == last


async def test_every_page_with_marks_is_the_plain_offset_answer(
    ctx: AppContext, dbs: tuple[Database, Database, Database]
) -> None:
    writer, reader, plain = dbs
    owner = await make_user(ctx)
    await _bulk(writer, owner.id, _rows(owner.id, COUNT, BASE, step_every=5))
    for per_page in (7, 50, 64, 100):
        await _check_pages(reader, plain, owner.id, per_page)
    marks = marks_cache(reader).get(owner.id)
    assert marks is not None and marks.version == await _version(reader, owner.id)
    order = await _order(plain, owner.id)
    assert [key[1] for key in marks.keys] == order[BLOCK - 1 :: BLOCK]
    # A tie group straddles many marks: 5 items per stamp, 64 per block.
    assert any(order.index(k[1]) % 5 != 4 for k in marks.keys)


def _spy(db: Database) -> list[str]:
    """The statements ``db``'s read pool runs from now on."""
    seen: list[str] = []
    fetch = db.reads.fetch

    async def spying(sql: str, params: Any) -> Any:
        seen.append("marks" if "WITH RECURSIVE" in sql else "seek" if "(created, id) < (?, ?)" in sql else "plain")
        return await fetch(sql, params)

    db.reads.fetch = spying  # type: ignore[method-assign]
    return seen


async def test_a_deep_page_is_one_statement_while_the_marks_hold(
    ctx: AppContext, dbs: tuple[Database, Database, Database]
) -> None:
    writer, reader, _plain = dbs
    owner = await make_user(ctx)
    await _bulk(writer, owner.id, _rows(owner.id, 1000, BASE, step_every=2))
    seen = _spy(reader)
    deep, shallow = PageQuery(page=12, perPage=50), PageQuery(page=1, perPage=50)
    await records.list_records(ITEMS, reader, owner.id, deep)
    assert seen == ["marks", "seek"]
    seen.clear()
    await records.list_records(ITEMS, reader, owner.id, deep)
    await records.list_records(ITEMS, reader, owner.id, shallow)
    assert seen == ["seek", "plain"]
    seen.clear()
    async with writer.session() as session:
        item = await records.create_record(ITEMS, session, owner.id, ItemCreate(name="x"))
        await records.update_record(ITEMS, session, owner.id, item.id, ItemUpdate(name="y"))
    await records.list_records(ITEMS, reader, owner.id, deep)
    assert seen == ["seek", "marks", "seek"]  # the stale seek is caught by its version column
    seen.clear()
    async with writer.session() as session:
        await records.update_record(ITEMS, session, owner.id, item.id, ItemUpdate(name="z"))
    await records.list_records(ITEMS, reader, owner.id, deep)
    assert seen == ["seek"]  # an update keeps the order and the marks


async def test_a_write_from_another_database_is_seen_by_the_next_deep_page(
    ctx: AppContext, dbs: tuple[Database, Database, Database]
) -> None:
    writer, reader, plain = dbs
    owner = await make_user(ctx)
    await _bulk(writer, owner.id, _rows(owner.id, COUNT, BASE, step_every=3))
    deep = [1, 2, 10, 11, 12, 30, 59, 60, 61]
    await _check_pages(reader, plain, owner.id, 50, deep)
    before = marks_cache(reader).get(owner.id)
    assert before is not None

    # A new item (newest: it shifts every page by one) from the other Database.
    async with writer.session() as session:
        await records.create_record(ITEMS, session, owner.id, ItemCreate(name="new"))
    await _check_pages(reader, plain, owner.id, 50, deep)
    after = marks_cache(reader).get(owner.id)
    assert after is not None and after.version == before.version + 1 and after.keys != before.keys

    # Deletes: a mark itself, a row just before one, the oldest item.
    order = await _order(plain, owner.id)
    for gone in (order[BLOCK * 3 - 1], order[BLOCK * 7 - 2], order[-1]):
        async with writer.session() as session:
            await records.delete_record(ITEMS, session, owner.id, gone)
        await _check_pages(reader, plain, owner.id, 50, deep)

    # Items in the middle of the order, tied with existing stamps (another write path).
    await _bulk(writer, owner.id, _rows(owner.id, 200, BASE + timedelta(seconds=300), step_every=3))
    await _check_pages(reader, plain, owner.id, 50, deep)
    await _check_pages(reader, plain, owner.id, 13)


async def test_only_inserts_and_deletes_move_the_version(ctx: AppContext, user: TestUser) -> None:
    start = await _version(ctx.db, user.id)
    async with ctx.db.session() as session:
        made = await records.create_record(ITEMS, session, user.id, ItemCreate(name="a"))
    assert await _version(ctx.db, user.id) == start + 1
    async with ctx.db.session() as session:
        await records.update_record(ITEMS, session, user.id, made.id, ItemUpdate(name="b", content="c"))
    assert await _version(ctx.db, user.id) == start + 1
    async with ctx.db.session() as session:
        await records.delete_record(ITEMS, session, user.id, made.id)
    assert await _version(ctx.db, user.id) == start + 2


WRITES = {
    "insert": lambda user_id, _item_id: insert(Item).values(
        id=new_id(), user_id=user_id, name="raw", content="", files=[], created=BASE, updated=BASE),
    "delete": lambda _user_id, item_id: delete(Item).where(Item.id == item_id),
    "reorder": lambda _user_id, item_id: update(Item).where(Item.id == item_id).values(created=BASE),
}


@pytest.mark.parametrize("write", WRITES)
async def test_a_write_outside_the_storage_functions_moves_the_version(
    ctx: AppContext, user: TestUser, write: str
) -> None:
    """A plain statement on the items table, no storage function: the database (migration 0005)
    still moves the owner's version, so no writer can leave the marks stale."""
    async with ctx.db.session() as session:
        existing = await records.create_record(ITEMS, session, user.id, ItemCreate(name="a"))
    start = await _version(ctx.db, user.id)
    async with ctx.db.session() as session:
        await session.execute(WRITES[write](user.id, existing.id))
    assert await _version(ctx.db, user.id) == start + 1


async def test_a_session_sees_its_own_writes_on_a_deep_page(
    ctx: AppContext, dbs: tuple[Database, Database, Database]
) -> None:
    """Sessions use the marks the read pool kept, checked against the session's own version."""
    writer, _reader, plain = dbs
    owner = await make_user(ctx)
    await _bulk(writer, owner.id, _rows(owner.id, 1000, BASE, step_every=4))
    query = PageQuery(page=15, perPage=50)
    committed = await records.list_records(ITEMS, writer, owner.id, query)  # the pool keeps the marks
    assert marks_cache(writer).get(owner.id) is not None
    async with writer.session() as session:
        assert await records.list_records(ITEMS, session, owner.id, query) == committed  # marks used, same rows
        await records.create_record(ITEMS, session, owner.id, ItemCreate(name="uncommitted"))
        mine = await records.list_records(ITEMS, session, owner.id, query)
        assert mine.totalItems == 1001
        # The new item is first of all: this page moves by one (the previous page's last comes in).
        assert [i.id for i in mine.items][1:] == [i.id for i in committed.items][:-1]
        async with plain.session() as plain_session:  # not shared: the plain database cannot see it
            assert await records.list_records(ITEMS, plain_session, owner.id, query) == committed
        await session.rollback()
    assert await records.list_records(ITEMS, writer, owner.id, query) == committed
    assert marks_cache(writer).get(owner.id).version == await _version(plain, owner.id)  # type: ignore[union-attr]


async def test_a_deleted_users_deep_page_is_empty(ctx: AppContext, dbs: tuple[Database, Database, Database]) -> None:
    writer, reader, _plain = dbs
    owner = await make_user(ctx)
    await _bulk(writer, owner.id, _rows(owner.id, 500, BASE, step_every=2))
    assert len((await records.list_records(ITEMS, reader, owner.id, PageQuery(page=5, perPage=50))).items) == 50
    async with writer.session() as session:
        await session.execute(text("DELETE FROM users WHERE id = :id"), {"id": owner.id})
    page = await records.list_records(ITEMS, reader, owner.id, PageQuery(page=5, perPage=50))
    assert (page.items, page.totalItems, page.totalPages) == ([], 0, 0)


async def test_the_default_block_on_the_shared_database(ctx: AppContext) -> None:
    """The production block (512) with the app's own Database: pages across three marks."""
    owner = await make_user(ctx)
    await _bulk(ctx.db, owner.id, _rows(owner.id, 2100, BASE, step_every=7))
    order = await _order(ctx.db, owner.id)
    for page in (1, 26, 27, 52, 80, 105, 106):
        got = await records.list_records(ITEMS, ctx.db, owner.id, PageQuery(page=page, perPage=20))
        assert [i.id for i in got.items] == order[(page - 1) * 20 : page * 20]
        assert got.totalItems == 2100
    marks = marks_cache(ctx.db).get(owner.id)
    assert marks is not None and [k[1] for k in marks.keys] == order[511::512]


async def test_the_seek_uses_the_index(ctx: AppContext, user: TestUser) -> None:
    sql = _statements(ITEMS, ctx.db.reads.dialect, False, False, True)[0]
    ids = sql[sql.index("r.id IN (") + 9 : sql.rindex(")")]
    async with ctx.db.engine.connect() as conn:
        if ctx.db.reads.dialect == "sqlite":
            plan = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {ids}", (user.id, "x", "x", 20, 5))).all()
            assert "(user_id=? AND (created,id)<(?,?))" in " ".join(str(row[-1]) for row in plan)
        else:
            # The shared test table is small and unanalyzed, where any plan is cheap: rule out the
            # scan and the sort to see that the index serves both the range and the order (the
            # benchmark's 100,000 items pick this plan by themselves, data/marks.py).
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            await conn.exec_driver_sql("SET LOCAL enable_sort = off")
            plan = (await conn.exec_driver_sql(
                f"EXPLAIN {dollar_params(ids)}", (user.id, BASE, "x", 20, 5)
            )).all()
            lines = [str(row[0]) for row in plan]
            assert any("Index Only Scan Backward using ix_items_user_created_id" in line for line in lines), lines
            assert any("Index Cond" in line and "ROW(created, " in line for line in lines), lines
