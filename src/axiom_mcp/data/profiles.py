"""Client profiles as the consent and Connected apps pages offer them: each profile's name, its
access tags and how many items they let an app see; and the person's tags to build a new one from.

The profiles themselves are the ``clients`` records (data/kinds.CLIENTS, data/records.py); what a
connection restricted to one sees is data/access.py's rule, counted here the same way: an item
with at least one of the profile's access tags.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.schemas import is_record_id
from axiom_mcp.db.tables import Client, Item, Tag, client_access_tags, item_tags


@dataclass(frozen=True)
class TagChoice:
    id: str
    name: str


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    tags: list[TagChoice]
    item_count: int
    """How many of the person's items carry at least one of ``tags``."""


async def user_tags(session: AsyncSession, user_id: str) -> list[TagChoice]:
    """The person's tags by name: what a new profile's access tags are picked from."""
    rows = await session.execute(select(Tag.id, Tag.name).where(Tag.user_id == user_id).order_by(Tag.name, Tag.id))
    return [TagChoice(row.id, row.name) for row in rows]


async def items_with_tags(session: AsyncSession, user_id: str, tag_ids: Collection[str]) -> int:
    """How many of the person's items carry at least one of ``tag_ids`` (none: 0)."""
    if not tag_ids:
        return 0
    count = await session.scalar(
        select(func.count(func.distinct(item_tags.c.item_id)))
        .join(Item, Item.id == item_tags.c.item_id)
        .where(Item.user_id == user_id, item_tags.c.tag_id.in_(list(tag_ids)))
    )
    return int(count or 0)


async def user_profiles(session: AsyncSession, user_id: str) -> list[Profile]:
    """The person's client profiles by name, each with its access tags and item count."""
    clients = (await session.execute(
        select(Client.id, Client.name).where(Client.user_id == user_id).order_by(Client.name, Client.id)
    )).all()
    tags: dict[str, list[TagChoice]] = {client.id: [] for client in clients}
    rows = await session.execute(
        select(client_access_tags.c.client_id, Tag.id, Tag.name)
        .join(Tag, Tag.id == client_access_tags.c.tag_id)
        .join(Client, Client.id == client_access_tags.c.client_id)
        .where(Client.user_id == user_id)
        .order_by(Tag.name, Tag.id)
    )
    for row in rows:
        tags[row.client_id].append(TagChoice(row.id, row.name))
    return [
        Profile(client.id, client.name, tags[client.id],
                await items_with_tags(session, user_id, [t.id for t in tags[client.id]]))
        for client in clients
    ]


async def is_users_profile(session: AsyncSession, user_id: str, profile_id: str) -> bool:
    if not is_record_id(profile_id):  # cannot exist; and text like NUL must never reach PostgreSQL
        return False
    found = await session.scalar(select(Client.id).where(Client.id == profile_id, Client.user_id == user_id))
    return found is not None
