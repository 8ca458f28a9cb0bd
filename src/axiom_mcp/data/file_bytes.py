"""What a person's files take up, for the two writes that add to it: an upload (data/files.py) and
an undo that brings an item's files back (data/undo.py)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.db.tables import ItemFile, User


async def bytes_used(session: AsyncSession, user_id: str) -> int:
    return int(await session.scalar(select(func.coalesce(func.sum(ItemFile.size), 0)).where(ItemFile.user_id == user_id)) or 0)


async def one_writer_at_a_time(session: AsyncSession, user_id: str) -> None:
    """Serialize the person's writes of file rows until this transaction ends, so a quota check after
    the write sees every other one.

    PostgreSQL: the person's row is locked. SQLite: the write that follows takes the database's write
    lock before the check reads. Either way a concurrent write's rows are seen or wait for ours."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())
