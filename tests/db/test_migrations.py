"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect

from axiom_mcp.db.engine import Database
from axiom_mcp.db.migrate import alembic_config, migrate
from axiom_mcp.db.tables import SEARCH_TABLES, Base, UTCDateTime, modelled
from tests.conftest import make_settings
from tests.support.databases import database


@pytest.fixture
async def empty_db(db_kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A brand-new, empty database of each kind (not the shared, already migrated one)."""
    async with database(db_kind, tmp_path) as url:
        db = Database(make_settings(url, tmp_path))
        try:
            yield db
        finally:
            await db.close()


def _differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": modelled})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Any) -> set[str]:
    return {name for name in inspect(connection).get_table_names() if not name.startswith(SEARCH_TABLES)}


async def test_the_migrations_have_one_head() -> None:
    """Two engineers adding revisions on the same parent would fork the history: one head only."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, heads


async def test_upgrading_an_empty_database_gives_the_models_schema(empty_db: Database) -> None:
    await migrate(empty_db.engine)
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
        tables = await conn.run_sync(_tables)
    expected = {
        "users", "items", "clients", "tags", "item_tags", "client_access_tags",
        "_oauth_clients", "_oauth_authorization_requests", "_oauth_authorization_codes",
        "_oauth_access_tokens", "_oauth_refresh_tokens", "_oauth_consents", "_web_sessions", "_login_throttle",
    }
    assert expected <= tables
    assert tables - {"alembic_version"} == set(Base.metadata.tables)


async def test_migrating_twice_changes_nothing(empty_db: Database) -> None:
    await migrate(empty_db.engine)
    await migrate(empty_db.engine)
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_downgrade_to_nothing_and_back(empty_db: Database) -> None:
    await migrate(empty_db.engine)
    await migrate_down(empty_db, "base")
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_tables) <= {"alembic_version"}
    await migrate(empty_db.engine)
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def migrate_down(db: Database, revision: str) -> None:
    from alembic import command

    def run(connection: Any) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def test_0015_stores_the_excerpt_of_every_item_there_is(empty_db: Database) -> None:
    """Items written before 0015 get the excerpt the data layer would have written with them."""
    from datetime import datetime

    from sqlalchemy import text

    from axiom_mcp.data.content import excerpt

    await migrate(empty_db.engine, "0014")
    stamp = datetime(2026, 1, 1)
    contents = {f"item{n:011d}": f"<h1>Title {n}</h1><p>Some <em>rich</em> words &amp; more {'x' * n}</p>"
                for n in range(3)}
    contents["itemempty00000"] = ""
    async with empty_db.engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO users (id, email, name, avatar, password_hash, verified, created, updated)"
            " VALUES ('user00000000001', 'a@example.com', '', '', 'x', false, :t, :t)"), {"t": stamp})
        await conn.execute(text(
            "INSERT INTO items (id, user_id, name, content, files, created, updated)"
            " VALUES (:id, 'user00000000001', 'n', :content, '[]', :t, :t)"),
            [{"id": key, "content": value, "t": stamp} for key, value in contents.items()])
    await migrate(empty_db.engine)
    async with empty_db.engine.connect() as conn:
        stored = dict((await conn.execute(text("SELECT id, excerpt FROM items"))).all())
    assert stored == {key: excerpt(value) for key, value in contents.items()}
    assert stored["item00000000000"] == "Title 0 Some rich words & more"


# --- 0017: tag names unique per person, whatever their case ---------------------------------------


def _rows(table: str, rows: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """A lightweight table for ``rows`` (the schema of an old revision, not of the models)."""
    from sqlalchemy import JSON, column, table as table_of

    first = rows[0]
    types = {k: UTCDateTime() if isinstance(v, datetime) else JSON() if isinstance(v, list) else None
             for k, v in first.items()}
    return table_of(table, *(column(k, t) if t is not None else column(k) for k, t in types.items())), rows


async def test_0017_merges_tags_named_alike_into_the_oldest_keeping_every_link(empty_db: Database) -> None:
    """Before 0017 one person could have "work" and "Work": they become one tag (the oldest),
    holding every item and client profile either had, once each; the index then refuses another."""
    from sqlalchemy import insert, select, text
    from sqlalchemy.exc import IntegrityError

    await migrate(empty_db.engine, "0014")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    ann, bob = "ann000000000001", "bob000000000001"
    tags = {  # id: (owner, name, minutes after ``at``)
        "work00000000002": (ann, "Work", 2), "work00000000001": (ann, "work", 1), "work00000000003": (ann, " WORK ", 3),
        "emoji0000000001": (ann, "Émoji", 1), "emoji0000000002": (ann, "éMOJI", 2),  # beyond ASCII: SQLite's lower() differs
        "strasse00000001": (ann, "Straße", 1), "strasse00000002": (ann, "STRASSE", 2),
        "home00000000001": (ann, "home", 1), "work0000000000b": (bob, "work", 1),  # another person's: kept
    }
    async with empty_db.engine.begin() as conn:
        for name, rows in (
            ("users", [{"id": u, "email": f"{u}@example.com", "name": "", "avatar": "", "password_hash": "x",
                        "verified": False, "created": at, "updated": at} for u in (ann, bob)]),
            ("tags", [{"id": i, "user_id": u, "name": n, "created": at + timedelta(minutes=m),
                       "updated": at} for i, (u, n, m) in tags.items()]),
            ("items", [{"id": f"item0000000000{n}", "user_id": ann, "name": f"item {n}", "content": "",
                        "files": [], "created": at, "updated": at} for n in range(3)]),
            ("clients", [{"id": "client000000001", "user_id": ann, "name": "Acme", "created": at, "updated": at}]),
            ("item_tags", [  # item 0 has two of the "work"s, item 1 the newest, item 2 the oldest and "home"
                {"item_id": "item00000000000", "tag_id": "work00000000002"},
                {"item_id": "item00000000000", "tag_id": "work00000000003"},
                {"item_id": "item00000000001", "tag_id": "work00000000003"},
                {"item_id": "item00000000001", "tag_id": "emoji0000000002"},
                {"item_id": "item00000000002", "tag_id": "work00000000001"},
                {"item_id": "item00000000002", "tag_id": "home00000000001"},
            ]),
            ("client_access_tags", [
                {"client_id": "client000000001", "tag_id": "work00000000001"},
                {"client_id": "client000000001", "tag_id": "work00000000002"},
                {"client_id": "client000000001", "tag_id": "strasse00000002"},
            ]),
        ):
            table, values = _rows(name, rows)
            await conn.execute(insert(table), values)

    await migrate(empty_db.engine)

    async with empty_db.engine.connect() as conn:
        kept = dict((await conn.execute(text("SELECT id, name FROM tags ORDER BY id"))).all())
        item_links = sorted(map(tuple, (await conn.execute(text("SELECT item_id, tag_id FROM item_tags"))).all()))
        client_links = sorted(map(tuple, (await conn.execute(text("SELECT client_id, tag_id FROM client_access_tags"))).all()))
        assert await conn.run_sync(_differences) == []
    assert kept == {"emoji0000000001": "Émoji", "home00000000001": "home", "strasse00000001": "Straße",
                    "work00000000001": "work", "work0000000000b": "work"}
    assert item_links == [
        ("item00000000000", "work00000000001"),
        ("item00000000001", "emoji0000000001"), ("item00000000001", "work00000000001"),
        ("item00000000002", "home00000000001"), ("item00000000002", "work00000000001"),
    ]
    assert client_links == [("client000000001", "strasse00000001"), ("client000000001", "work00000000001")]

    table, values = _rows("tags", [{"id": "work00000000009", "user_id": ann, "name": "WORK", "name_key": "work",
                                     "created": at, "updated": at}])
    with pytest.raises(IntegrityError):
        async with empty_db.engine.begin() as conn:
            await conn.execute(insert(table), values)
    async with empty_db.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(text("tags"))) == 5


async def test_the_search_migration_indexes_the_items_already_there(empty_db: Database) -> None:
    """Migration 0016 backfills every existing item's search document (name, text, tags, files)."""
    from sqlalchemy import insert

    from axiom_mcp.data import records
    from axiom_mcp.data.kinds import ITEMS
    from axiom_mcp.data.schemas import PageQuery

    await migrate(empty_db.engine, "0014")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    owner, item = "u" * 15, "i" * 15
    async with empty_db.engine.begin() as conn:
        for name, rows in (  # the schema of 0014 (no excerpt, no name_key yet)
            ("users", [{"id": owner, "email": "old@example.com", "name": "", "avatar": "", "password_hash": "x",
                        "verified": False, "created": at, "updated": at}]),
            ("tags", [{"id": "t" * 15, "user_id": owner, "name": "Ärchive", "created": at, "updated": at}]),
            ("items", [{"id": item, "user_id": owner, "name": "Old note", "content": "<p>written <em>before</em></p>",
                        "files": ["listed.txt"], "created": at, "updated": at}]),
            ("item_tags", [{"item_id": item, "tag_id": "t" * 15}]),
            ("files", [{"id": "f" * 15, "user_id": owner, "item_id": item, "name": "Scan-Résumé.pdf", "size": 1,
                        "content_type": "x", "sha256": "0" * 64, "storage_key": "k", "created": at}]),
        ):
            table, values = _rows(name, rows)
            await conn.execute(insert(table), values)
    await migrate(empty_db.engine)
    for q in ("old note", "BEFORE", "archive", "resume", "listed"):
        page = await records.list_records(ITEMS, empty_db, owner, PageQuery(q=q))
        assert [i.id for i in page.items] == [item], q
