"""List totals: exact for small lists, briefly cached for large ones, forgotten on this process's writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS, TAGS
from axiom_mcp.data.access import View
from axiom_mcp.data.counts import CountCache, count_cache
from axiom_mcp.data.schemas import ItemCreate, ItemUpdate, PageQuery, TagCreate
from axiom_mcp.db.engine import Database
from tests.support.factories import TestUser

FULL_PAGE = PageQuery(page=1, perPage=2)  # a full page: the total must be counted (or cached)


@pytest.fixture
def cache(ctx: AppContext) -> Iterator[CountCache]:
    """The database's count cache with a threshold of 3, so a handful of rows is "large"."""
    found = count_cache(ctx.db)
    assert isinstance(found, CountCache)
    threshold, seconds = found.threshold, found.seconds
    found.threshold, found.seconds = 3, 60.0
    try:
        yield found
    finally:
        found.threshold, found.seconds = threshold, seconds


async def items(ctx: AppContext, owner: TestUser, count: int, db: Database | None = None) -> list[str]:
    async with (db or ctx.db).session() as session:
        return [(await records.create_record(ITEMS, session, owner.id, ItemCreate(name=f"i{n}"))).id for n in range(count)]


async def total(ctx: AppContext, owner: TestUser, params: PageQuery = FULL_PAGE) -> int:
    """The total from both sources, which share the database's cache (so both must agree)."""
    async with ctx.db.session() as session:
        in_session = (await records.list_records(ITEMS, session, owner.id, params)).totalItems
    from_database = (await records.list_records(ITEMS, ctx.db, owner.id, params)).totalItems
    assert in_session == from_database
    return int(from_database)


async def test_every_session_of_a_database_gets_its_cache(ctx: AppContext) -> None:
    async with ctx.db.session() as one, ctx.db.session() as two:
        assert count_cache(one) is count_cache(two) is count_cache(ctx.db)  # the read pool's too


async def test_a_large_total_is_cached_and_forgotten_when_this_process_adds_or_deletes(
    ctx: AppContext, user: TestUser, cache: CountCache
) -> None:
    ids = await items(ctx, user, 4)
    assert await total(ctx, user) == 4
    assert cache.get(user.id, "items") == 4

    await items(ctx, user, 1)
    assert cache.get(user.id, "items") is None
    assert await total(ctx, user) == 5

    async with ctx.db.session() as session:
        await records.delete_record(ITEMS, session, user.id, ids[0])
    assert await total(ctx, user) == 4


async def test_another_instance_sees_a_large_total_at_most_seconds_late(
    ctx: AppContext, user: TestUser, cache: CountCache
) -> None:
    await items(ctx, user, 4)
    assert await total(ctx, user) == 4
    elsewhere = Database(ctx.settings)  # a second instance over the same database
    try:
        await items(ctx, user, 2, db=elsewhere)
    finally:
        await elsewhere.close()
    assert await total(ctx, user) == 4  # the trade: up to `seconds` behind another instance's writes
    cache.seconds = 0.0
    cache.forget(user.id, "items")
    assert await total(ctx, user) == 6


async def test_small_and_filtered_totals_are_always_counted(
    ctx: AppContext, user: TestUser, cache: CountCache
) -> None:
    await items(ctx, user, 2)
    assert await total(ctx, user) == 2
    assert cache.get(user.id, "items") is None  # below the threshold: never cached

    await items(ctx, user, 3)
    assert await total(ctx, user, PageQuery(page=1, perPage=2, q="i")) == 5
    assert cache.get(user.id, "items") is None  # a search is never cached


async def test_other_kinds_and_owners_keep_their_own_totals(
    ctx: AppContext, user: TestUser, other_user: TestUser, cache: CountCache
) -> None:
    await items(ctx, user, 3)
    await items(ctx, other_user, 4)
    assert await total(ctx, user) == 3
    assert await total(ctx, other_user) == 4
    async with ctx.db.session() as session:
        for n in range(3):
            await records.create_record(TAGS, session, user.id, TagCreate(name=f"t{n}"))
        assert (await records.list_records(TAGS, session, user.id, FULL_PAGE)).totalItems == 3
    assert cache.get(user.id, "items") == 3  # adding tags leaves the item total alone
    assert cache.get(user.id, "tags") == 3


async def test_a_restricted_views_total_is_kept_apart_and_forgotten_when_tags_change(
    ctx: AppContext, user: TestUser, cache: CountCache
) -> None:
    async with ctx.db.session() as session:
        work = (await records.create_record(TAGS, session, user.id, TagCreate(name="work"))).id
        tagged = [(await records.create_record(ITEMS, session, user.id, ItemCreate(name=f"w{n}", tags=[work]))).id
                  for n in range(4)]
    await items(ctx, user, 3)
    view = View(user.id, frozenset({work}), "profile")
    assert (await records.list_records(ITEMS, ctx.db, view, FULL_PAGE)).totalItems == 4
    assert await total(ctx, user) == 7  # the person's own total, apart
    assert cache.get(user.id, "items", work) == 4 and cache.get(user.id, "items") == 7

    async with ctx.db.session() as session:  # an item leaves the view: every total is forgotten
        await records.update_record(ITEMS, session, user.id, tagged[0], ItemUpdate(tags=[]))
    assert cache.get(user.id, "items", work) is None
    assert (await records.list_records(ITEMS, ctx.db, view, FULL_PAGE)).totalItems == 3
