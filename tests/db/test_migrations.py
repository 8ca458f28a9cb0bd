"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from axiom_mcp.db.engine import Database
from axiom_mcp.db.migrate import alembic_config, migrate
from axiom_mcp.db.tables import SEARCH_TABLES, Base, modelled
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


async def test_the_search_migration_indexes_the_items_already_there(empty_db: Database) -> None:
    """Migration 0016 backfills every existing item's search document (name, text, tags, files)."""
    from axiom_mcp.data import records
    from axiom_mcp.data.kinds import ITEMS
    from axiom_mcp.data.schemas import PageQuery
    from axiom_mcp.db.tables import Item, ItemFile, Tag, User, item_tags

    await migrate(empty_db.engine, "0014")
    async with empty_db.session() as session:
        session.add(User(id="u" * 15, email="old@example.com", password_hash="x"))
        await session.flush()
        session.add(Tag(id="t" * 15, user_id="u" * 15, name="Ärchive"))
        session.add(Item(id="i" * 15, user_id="u" * 15, name="Old note", content="<p>written <em>before</em></p>",
                         files=["listed.txt"]))
        await session.flush()
        await session.execute(item_tags.insert().values(item_id="i" * 15, tag_id="t" * 15))
        session.add(ItemFile(user_id="u" * 15, item_id="i" * 15, name="Scan-Résumé.pdf", size=1, content_type="x",
                             sha256="0" * 64, storage_key="k"))
    await migrate(empty_db.engine)
    for q in ("old note", "BEFORE", "archive", "resume", "listed"):
        page = await records.list_records(ITEMS, empty_db, "u" * 15, PageQuery(q=q))
        assert [i.id for i in page.items] == ["i" * 15], q
