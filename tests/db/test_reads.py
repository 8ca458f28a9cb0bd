"""The read pool (db/reads.py): plain driver connections for list reads, read-only, on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import TAGS
from axiom_mcp.data.schemas import TagCreate
from axiom_mcp.db.engine import Database
from axiom_mcp.db.migrate import migrate
from axiom_mcp.db.reads import EngineReads, PostgresReads, ReadPoolClosed, SqliteReads, asyncpg_dsn
from tests.conftest import make_settings
from tests.support.factories import TestUser


async def test_each_database_gets_its_kind_of_pool(ctx: AppContext, db_kind: str) -> None:
    expected = SqliteReads if db_kind == "sqlite" else PostgresReads
    assert isinstance(ctx.db.reads, expected)
    assert ctx.db.reads.dialect == ctx.db.engine.dialect.name


async def test_reads_see_commits_at_once_and_fold_unicode(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        tag = await records.create_record(TAGS, session, user.id, TagCreate(name="ÄRZTE"))
    rows = await ctx.db.reads.fetch("SELECT id, name FROM tags WHERE user_id = ?", [user.id])
    assert [tuple(r) for r in rows] == [(tag.id, "ÄRZTE")]
    if ctx.db.reads.dialect == "sqlite":
        rows = await ctx.db.reads.fetch("SELECT axiom_fold(name) FROM tags WHERE id = ?", [tag.id])
        assert rows[0][0] == "ärzte"


async def test_the_pool_cannot_write(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        tag = await records.create_record(TAGS, session, user.id, TagCreate(name="stays"))
    refused = (sqlite3.OperationalError, asyncpg.exceptions.ReadOnlySQLTransactionError)
    for sql in ("DELETE FROM tags WHERE id = ?", "UPDATE tags SET name = 'gone' WHERE id = ?"):
        with pytest.raises(refused):
            await ctx.db.reads.fetch(sql, [tag.id])
    async with ctx.db.session() as session:
        assert (await records.get_record(TAGS, session, user.id, tag.id)).name == "stays"


async def test_concurrent_reads_all_answer(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        for n in range(3):
            await records.create_record(TAGS, session, user.id, TagCreate(name=f"t{n}"))
    sql = "SELECT count(*) FROM tags WHERE user_id = ?"
    counts = await asyncio.gather(*(ctx.db.reads.fetch(sql, [user.id]) for _ in range(40)))
    assert {int(rows[0][0]) for rows in counts} == {3}


async def test_an_in_memory_sqlite_database_reads_through_the_engine(tmp_path: Path) -> None:
    db = Database(make_settings("sqlite+aiosqlite:///:memory:", tmp_path))
    try:
        assert isinstance(db.reads, EngineReads)
        assert [tuple(r) for r in await db.reads.fetch("SELECT axiom_fold(?), ?", ["ÄB", 2])] == [("äb", 2)]
    finally:
        await db.close()


async def test_a_closed_pool_refuses_and_closes_once(tmp_path: Path) -> None:
    db = Database(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", tmp_path))
    await migrate(db.engine)
    assert [tuple(r) for r in await db.reads.fetch("SELECT ?", [1])] == [(1,)]
    await db.close()
    with pytest.raises(ReadPoolClosed):
        await db.reads.fetch("SELECT 1", [])
    await db.reads.close()  # idempotent


async def test_the_pools_connections_are_read_only(ctx: AppContext, db_kind: str) -> None:
    # PostgreSQL: read-only sessions; SQLite: query_only connections (a write is refused: above).
    sql, read_only = {
        "postgres": ("SELECT current_setting('default_transaction_read_only')", "on"),
        "sqlite": ("PRAGMA query_only", 1),
    }[db_kind]
    rows = await ctx.db.reads.fetch(sql, [])
    assert rows[0][0] == read_only


def test_the_asyncpg_dsn_keeps_credentials_and_database() -> None:
    dsn = asyncpg_dsn("postgresql+asyncpg://u:p%40ss@db.example:5433/axiom?ssl=require")
    assert dsn == "postgresql://u:p%40ss@db.example:5433/axiom?ssl=require"
