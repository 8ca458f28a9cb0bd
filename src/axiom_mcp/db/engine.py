"""The database handle: one async engine, its session factory and read pool per process, from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from axiom_mcp.db.fold import FOLD, fold
from axiom_mcp.db.reads import Reads, create_reads, sqlite_file
from axiom_mcp.settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; NORMAL sync is durable across a process crash
    # (kill -9) in WAL mode; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    dbapi_connection.create_function(FOLD, 1, fold, deterministic=True)


def _sqlite_folder(url: str) -> Path | None:
    """The folder of an SQLite file database (None for an in-memory one)."""
    path = sqlite_file(url)
    return None if path is None else path.parent


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if url.startswith("sqlite"):
        folder = _sqlite_folder(url)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """An engine and its session factory. Created by the app factory's caller, closed on shutdown."""

    def __init__(self, settings: Settings, info: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        self.info: dict[str, Any] = dict(info or {})
        """What the layers above keep per database (their caches); every session of this database
        finds the same objects in its ``session.info``."""
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False, info=self.info
        )
        # The lean path of the hot list reads (db/reads.py); sees committed data only.
        self.reads: Reads = create_reads(
            self.engine, settings.database_url, settings.statement_timeout.total_seconds()
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block ends, rolled back on an error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def close(self) -> None:
        try:
            await self.reads.close()
        finally:
            await self.engine.dispose()
