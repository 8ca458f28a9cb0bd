"""Insert-if-absent on both databases, so concurrent first writes (two instances, two tabs) do not
collide on a unique key. SQLite and PostgreSQL both speak ``ON CONFLICT DO NOTHING``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_if_absent(session: AsyncSession, model: type[Any], values: dict[str, Any], keys: list[str]) -> bool:
    """Insert a row unless one with the same ``keys`` exists; True when this call inserted it."""
    table = model.__table__
    # Column defaults (ids, timestamps) apply to Core inserts as they do to the ORM.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]
