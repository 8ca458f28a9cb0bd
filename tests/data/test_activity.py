"""The activity log: batched writes, what is kept (never content), per-app pages, calls per day, retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from axiom_mcp.context import AppContext
from axiom_mcp.data import activity
from axiom_mcp.data.activity import Action, ActivityLog
from axiom_mcp.data.cleanup import remove_expired
from axiom_mcp.db.tables import Activity, User
from tests.support.factories import TestUser, make_user

APP = "https://chatgpt.com/oauth/client.json"


async def _rows(ctx: AppContext, user_id: str) -> list[Activity]:
    async with ctx.db.session() as session:
        return list((await session.scalars(select(Activity).where(Activity.user_id == user_id))).all())


async def test_actions_wait_in_memory_and_are_written_together_soon_after(ctx: AppContext, user: TestUser) -> None:
    log = ActivityLog(ctx.db, delay=0.2)
    for n in range(5):
        log.record(Action(user.id, APP, "mcp", "get_user_item", (f"item{n}",)))
    assert await _rows(ctx, user.id) == []  # not one transaction per call
    for _ in range(50):
        await asyncio.sleep(0.05)
        if len(await _rows(ctx, user.id)) == 5:
            break
    rows = await _rows(ctx, user.id)
    assert sorted(r.record_ids[0] for r in rows) == [f"item{n}" for n in range(5)]
    assert {(r.surface, r.action, r.client_id, r.ok) for r in rows} == {("mcp", "get_user_item", APP, True)}
    await log.close()


async def test_close_writes_what_is_still_waiting(ctx: AppContext, user: TestUser) -> None:
    log = ActivityLog(ctx.db, delay=60)
    log.record(Action(user.id, APP, "rest", "DELETE /api/v1/user/items/{record_id}", ("abc",), ok=False, error="not_found"))
    await log.close()
    [row] = await _rows(ctx, user.id)
    assert (row.action, row.ok, row.error, row.record_ids) == ("DELETE /api/v1/user/items/{record_id}", False, "not_found", ["abc"])


async def test_a_deleted_account_does_not_lose_the_others_actions(ctx: AppContext, user: TestUser) -> None:
    gone = await make_user(ctx, name="Gone")
    log = ActivityLog(ctx.db, delay=60)
    log.record(Action(gone.id, APP, "mcp", "get_user_items"))
    log.record(Action(user.id, APP, "mcp", "get_user_items"))
    async with ctx.db.session() as session:
        await session.delete(await session.get(User, gone.id))
    assert await log.flush() == 1
    assert len(await _rows(ctx, user.id)) == 1
    assert await _rows(ctx, gone.id) == []


async def test_a_stuck_database_drops_actions_past_the_bound_instead_of_growing(ctx: AppContext, user: TestUser) -> None:
    log = ActivityLog(ctx.db, delay=60, max_pending=3)
    for _ in range(5):
        log.record(Action(user.id, APP, "mcp", "get_user_items"))
    assert log.dropped == 2
    assert await log.flush() == 3


async def test_latest_pages_one_apps_actions_newest_first(ctx: AppContext, user: TestUser, other_user: TestUser) -> None:
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    log = ActivityLog(ctx.db, delay=60)
    for n in range(7):
        log.record(Action(user.id, APP, "mcp", f"tool{n}", at=start + timedelta(minutes=n)))
    log.record(Action(user.id, "another-app", "mcp", "other"))
    log.record(Action(other_user.id, APP, "mcp", "someone-else"))
    await log.flush()
    async with ctx.db.session() as session:
        first = await activity.latest(session, user.id, APP, page=1, per_page=3)
        last = await activity.latest(session, user.id, APP, page=3, per_page=3)
    assert (first.totalItems, first.totalPages) == (7, 3)
    assert [a.action for a in first.items] == ["tool6", "tool5", "tool4"]
    assert [a.action for a in last.items] == ["tool0"]
    assert first.items[0].at == start + timedelta(minutes=6)


async def test_calls_per_day_counts_calls_and_errors_with_a_zero_for_quiet_days(ctx: AppContext, user: TestUser) -> None:
    today = date(2026, 11, 29)
    noon = datetime(2026, 11, 29, 12, tzinfo=UTC)
    log = ActivityLog(ctx.db, delay=60)
    for at, ok in [
        (noon, True), (noon, False), (noon - timedelta(days=2), True),
        (datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC), True),  # the very end of a UTC day
        (noon - timedelta(days=30), True),  # before the window
    ]:
        log.record(Action(user.id, APP, "mcp", "get_user_items", ok=ok, at=at))
    await log.flush()
    async with ctx.db.session() as session:
        days = await activity.calls_per_day(session, user.id, APP, days=30, today=today)
    assert len(days) == 30 and days[0].day == date(2026, 10, 31) and days[-1].day == today
    by_day = {d.day: (d.calls, d.errors) for d in days}
    assert by_day[today] == (2, 1)
    assert by_day[date(2026, 11, 28)] == (1, 0)
    assert by_day[date(2026, 11, 27)] == (1, 0)
    assert sum(d.calls for d in days) == 4


async def test_cleanup_removes_activity_past_the_retention(ctx: AppContext, user: TestUser) -> None:
    retention = ctx.settings.activity_retention
    log = ActivityLog(ctx.db, delay=60)
    log.record(Action(user.id, APP, "mcp", "old", at=datetime.now(UTC) - retention - timedelta(minutes=1)))
    log.record(Action(user.id, APP, "mcp", "recent", at=datetime.now(UTC) - retention + timedelta(hours=1)))
    await log.flush()
    async with ctx.db.session() as session:
        report = await remove_expired(session, ctx.settings)
    assert report.activity >= 1
    assert [r.action for r in await _rows(ctx, user.id)] == ["recent"]
