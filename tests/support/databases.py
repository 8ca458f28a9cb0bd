"""Test databases: a fresh SQLite file and a fresh PostgreSQL database per test run, dropped after."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

PG_ADMIN_URL = os.environ.get("AXIOM_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def postgres_database(admin_url: str = PG_ADMIN_URL, prefix: str = "axiom_test") -> AsyncIterator[str]:
    """A new, empty PostgreSQL database; yields its SQLAlchemy URL and drops it afterwards.

    ``admin_url`` names a database to connect to while creating and dropping; the benchmarks pass
    their own (and their own name ``prefix``)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    try:
        admin = await asyncpg.connect(admin_url, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {admin_url} ({exc}); "
            "start it (scripts/test does) or set AXIOM_TEST_PG_ADMIN_URL"
        ) from exc
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(admin_url, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def sqlite_database(folder: Path) -> AsyncIterator[str]:
    yield f"sqlite+aiosqlite:///{folder / 'axiom.db'}"


@asynccontextmanager
async def database(kind: str, folder: Path) -> AsyncIterator[str]:
    manager = postgres_database() if kind == "postgres" else sqlite_database(folder)
    async with manager as url:
        yield url
