"""Whether the database answers: what the health checks report."""

from __future__ import annotations

from sqlalchemy import text

from axiom_mcp.db.engine import Database


async def reachable(db: Database) -> bool:
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - health reports any failure as "down"
        return False
