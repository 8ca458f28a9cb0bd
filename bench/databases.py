"""Fresh databases for a benchmark run: a new SQLite file, or a new PostgreSQL database dropped after."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.databases import postgres_database

PG_ADMIN_URL = os.environ.get("AXIOM_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def database(kind: str, folder: Path) -> AsyncIterator[str]:
    """A fresh database of ``kind`` (``sqlite`` or ``postgres``); yields its SQLAlchemy URL."""
    if kind == "postgres":
        async with postgres_database(PG_ADMIN_URL, prefix="axiom_bench") as url:
            yield url
    elif kind == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        raise ValueError(f"unknown database kind {kind!r}")
