"""List pages (data/lists.py, the lean path), typed or as JSON-ready data: the same records, and byte
for byte the same JSON, as the ORM path reading them one at a time, from either source."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic_core
import pytest
from sqlalchemy import update

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import CLIENTS, ITEMS, KINDS, TAGS
from axiom_mcp.data.schemas import ClientCreate, ItemCreate, Page, PageQuery, TagCreate
from axiom_mcp.db.reads import dollar_params
from axiom_mcp.db.tables import Client, Item, Tag
from tests.support.factories import TestUser


# Whole seconds (no fraction in the JSON), a fraction with trailing zeros, a full one.
STAMPS = [
    datetime(2025, 1, 1, 0, 1, 39, tzinfo=UTC),
    datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
    datetime(2025, 1, 3, 3, 4, 5, 123456, tzinfo=UTC),
    datetime(2025, 1, 4, 23, 59, 59, 1, tzinfo=UTC),
]


async def _seed(ctx: AppContext, owner: TestUser) -> None:
    """Tags (names out of order, one used twice), items and clients with and without tags, files,
    and timestamps of each shape."""
    async with ctx.db.session() as session:
        zeta, alpha, beta = [
            (await records.create_record(TAGS, session, owner.id, TagCreate(name=name))).id for name in ("zeta", "Alpha", "beta")
        ]
        made = [
            await records.create_record(ITEMS, session, owner.id, ItemCreate(name="both", content="<p>c</p>", tags=[zeta, alpha])),
            await records.create_record(ITEMS, session, owner.id, ItemCreate(name="bare", files=["a.txt", "b é.png"])),
            await records.create_record(ITEMS, session, owner.id, ItemCreate(name="three", tags=[beta, zeta, alpha])),
            await records.create_record(ITEMS, session, owner.id, ItemCreate(name="ünï \"quoted\" \\ ☃")),
        ]
        clients = [
            await records.create_record(CLIENTS, session, owner.id, ClientCreate(name="one", accessTags=[beta, alpha])),
            await records.create_record(CLIENTS, session, owner.id, ClientCreate(name="two")),
            await records.create_record(CLIENTS, session, owner.id, ClientCreate(name="three", accessTags=[zeta])),
        ]
        for n, item in enumerate(made):
            stamp = STAMPS[n % len(STAMPS)]
            await session.execute(update(Item).where(Item.id == item.id).values(created=stamp, updated=STAMPS[-1 - n]))
        for n, client in enumerate(clients):
            await session.execute(update(Client).where(Client.id == client.id).values(created=STAMPS[n], updated=STAMPS[n]))
        for n, tag_id in enumerate((zeta, alpha)):
            await session.execute(update(Tag).where(Tag.id == tag_id).values(created=STAMPS[n + 1], updated=STAMPS[n]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("params", [PageQuery(perPage=2), PageQuery(page=2, perPage=2), PageQuery(), PageQuery(q="E")],
                         ids=["full", "second", "partly-filled", "search"])
async def test_a_page_is_the_orm_paths_records_and_the_same_from_either_source(
    ctx: AppContext, user: TestUser, kind: str, params: PageQuery
) -> None:
    await _seed(ctx, user)
    declared = KINDS[kind]
    from_db = await records.list_records(declared, ctx.db, user.id, params)
    async with ctx.db.session() as session:
        from_session = await records.list_records(declared, session, user.id, params)
        one_by_one = [await records.get_record(declared, session, user.id, record.id) for record in from_db.items]
    assert isinstance(from_db, Page) and all(isinstance(record, declared.out) for record in from_db.items)
    assert from_db == from_session
    assert from_db.items, "the seed fills every page looked at"
    # The JSON-ready dict the REST API and the MCP tools write out is the model's JSON, byte for byte.
    data = await records.list_records_data(declared, ctx.db, user.id, params)
    assert list(data) == ["page", "perPage", "totalItems", "totalPages", "items"]
    assert pydantic_core.to_json(data) == from_db.model_dump_json().encode()

    # The records are exactly what the ORM path reads one at a time (values, tag order, stamps),
    # and so is their JSON, byte for byte.
    assert from_db.items == one_by_one
    orm_page = from_db.model_copy(update={"items": one_by_one})
    assert from_db.model_dump_json() == orm_page.model_dump_json()
    assert from_session.model_dump_json() == orm_page.model_dump_json()


async def test_the_json_covers_tags_files_and_every_timestamp_shape(ctx: AppContext, user: TestUser) -> None:
    await _seed(ctx, user)
    page = await records.list_records(ITEMS, ctx.db, user.id, PageQuery())
    body = page.model_dump_json()
    by_name = {item.name: item for item in page.items}
    assert [t.name for t in by_name["three"].expand.tags] == ["Alpha", "beta", "zeta"]
    assert by_name["three"].tags == [t.id for t in by_name["three"].expand.tags]
    assert by_name["bare"].tags == [] and by_name["bare"].expand.tags == []
    assert by_name["bare"].files == ["a.txt", "b é.png"]
    for shape in ('"2025-01-01T00:01:39Z"', '"2025-01-02T03:04:05.120000Z"', '"2025-01-03T03:04:05.123456Z"',
                  '"2025-01-04T23:59:59.000001Z"'):
        assert shape in body


async def test_a_session_sees_its_own_uncommitted_writes_and_the_database_only_commits(
    ctx: AppContext, user: TestUser
) -> None:
    async with ctx.db.session() as session:
        made = await records.create_record(ITEMS, session, user.id, ItemCreate(name="pending"))
        assert [i.id for i in (await records.list_records(ITEMS, session, user.id, PageQuery())).items] == [made.id]
        assert (await records.list_records(ITEMS, ctx.db, user.id, PageQuery())).items == []
    assert [i.id for i in (await records.list_records(ITEMS, ctx.db, user.id, PageQuery())).items] == [made.id]


async def test_an_empty_list_and_a_page_beyond_the_end(ctx: AppContext, user: TestUser) -> None:
    for kind in KINDS.values():
        page = await records.list_records(kind, ctx.db, user.id, PageQuery())
        assert page.model_dump() == {"page": 1, "perPage": 30, "totalItems": 0, "totalPages": 0, "items": []}
    await _seed(ctx, user)
    beyond = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(page=9, perPage=3))
    assert (beyond.items, beyond.totalItems, beyond.totalPages) == ([], 4, 2)


def test_placeholders_are_numbered_for_postgresql_outside_quotes() -> None:
    sql = "SELECT a FROM t WHERE b = ? AND c LIKE ? ESCAPE '\\' AND d = '?' AND e IN (?, ?)"
    assert dollar_params(sql) == "SELECT a FROM t WHERE b = $1 AND c LIKE $2 ESCAPE '\\' AND d = '?' AND e IN ($3, $4)"
