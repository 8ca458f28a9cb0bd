"""Fresh databases for a benchmark run: a new SQLite file, or a new PostgreSQL database dropped after."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

PG_ADMIN_URL = os.environ.get("AXIOM_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def asyncpg_url(sqlalchemy_url: str) -> str:
    """The plain ``postgresql://`` form asyncpg takes."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database; yields its SQLAlchemy URL and drops it afterwards."""
    name = f"axiom_bench_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def database(kind: str, folder: Path) -> AsyncIterator[str]:
    """A fresh database of ``kind`` (``sqlite`` or ``postgres``); yields its SQLAlchemy URL."""
    if kind == "postgres":
        async with postgres_database() as url:
            yield url
    elif kind == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        raise ValueError(f"unknown database kind {kind!r}")
