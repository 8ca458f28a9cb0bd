"""The database handle: SQLite's pragmas, UTC timestamps on both databases, transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from axiom_mcp.context import AppContext
from axiom_mcp.data.health import reachable
from axiom_mcp.db.engine import Database
from axiom_mcp.db.migrate import migrate
from axiom_mcp.db.tables import Tag
from tests.conftest import make_settings
from tests.support.factories import TestUser


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = Database(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'deeper' / 'x.db'}", tmp_path))
    try:
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 10000
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
            assert (await conn.execute(text("SELECT axiom_fold('ÄRZTE')"))).scalar() == "ärzte"
        assert (tmp_path / "nested" / "deeper" / "x.db").exists()  # the file's folder was made
        assert await reachable(db)
    finally:
        await db.close()


async def test_the_default_database_is_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    settings = make_settings("", tmp_path / "data")
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'axiom.db'}"
    db = Database(settings)
    try:
        await migrate(db.engine)
    finally:
        await db.close()
    assert (tmp_path / "data" / "axiom.db").exists()


async def test_a_database_that_is_not_there_is_not_reachable(tmp_path: Path) -> None:
    db = Database(make_settings("postgresql+asyncpg://nobody@127.0.0.1:9/none", tmp_path))
    try:
        assert await reachable(db) is False
    finally:
        await db.close()


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=-7), timedelta(hours=5, minutes=45)])
async def test_timestamps_come_back_in_utc_as_the_same_instant(
    ctx: AppContext, user: TestUser, offset: timedelta
) -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone(offset))
    async with ctx.db.session() as session:
        tag = Tag(user_id=user.id, name="t", created=moment, updated=moment)
        session.add(tag)
    async with ctx.db.session() as session:
        loaded = await session.scalar(select(Tag).where(Tag.id == tag.id))
    assert loaded is not None
    assert loaded.created == moment
    assert loaded.created.tzinfo == UTC


async def test_a_naive_timestamp_is_refused(ctx: AppContext, user: TestUser) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with ctx.db.session() as session:
            session.add(Tag(user_id=user.id, name="t", created=datetime(2026, 1, 1)))
            await session.flush()


async def test_a_session_rolls_back_on_an_error(ctx: AppContext, user: TestUser) -> None:
    with pytest.raises(RuntimeError):
        async with ctx.db.session() as session:
            session.add(Tag(user_id=user.id, name="never stored"))
            await session.flush()
            raise RuntimeError("boom")
    async with ctx.db.session() as session:
        found = await session.scalar(select(Tag).where(Tag.user_id == user.id, Tag.name == "never stored"))
    assert found is None
