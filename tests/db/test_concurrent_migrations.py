"""Several instances starting at once against one fresh PostgreSQL database all come up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from axiom_mcp.db.engine import Database
from axiom_mcp.db.migrate import migrate
from tests.conftest import make_settings
from tests.support.databases import postgres_database


async def test_simultaneous_migrations_on_postgres_do_not_collide(tmp_path: Path) -> None:
    async with postgres_database() as url:
        databases = [Database(make_settings(url, tmp_path)) for _ in range(4)]
        try:
            await asyncio.wait_for(asyncio.gather(*(migrate(db.engine) for db in databases)), timeout=120)
            async with databases[0].engine.connect() as conn:
                versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            assert len(versions) == 1
        finally:
            for db in databases:
                await db.close()
