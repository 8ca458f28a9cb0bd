"""Run Alembic migrations programmatically (on `axiom serve` and `axiom migrate`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x61786D69  # "axmi": a fixed PostgreSQL advisory lock id for schema upgrades


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision``."""

    def run(connection: Any) -> None:
        if connection.dialect.name == "postgresql":
            # Several instances may start at once against one database: the first migrates, the
            # others wait here and then find nothing to do (the lock ends with the transaction).
            # Here, before command.upgrade, and not in migrations/env.py: Alembic's ``context`` is one
            # global per process, so migrations in one process must not enter it together either
            # (taken in env.py, tests/db/test_concurrent_migrations.py fails).
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
