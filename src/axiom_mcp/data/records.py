"""Items, clients and tags: list, get, create, update, delete, always scoped to one owner.

A tag list in input (an item's ``tags``, a client's ``accessTags``) must name the owner's own tags;
anything else is refused naming the field, so nobody can attach (or learn of) another user's tag.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from axiom_mcp.data.counts import forget_count
from axiom_mcp.data.lists import CLIENTS, ITEMS, TAGS, Source, list_page
from axiom_mcp.db.tables import Client, Item, Tag, User
from axiom_mcp.errors import NotFoundError, ValidationFailed
from axiom_mcp.ids import utcnow
from axiom_mcp.data.schemas import (
    ClientCreate,
    ClientExpand,
    ClientOut,
    ClientUpdate,
    ItemCreate,
    ItemExpand,
    ItemOut,
    ItemUpdate,
    PageQuery,
    TagCreate,
    TagOut,
    TagUpdate,
    is_record_id,
)


def tag_out(tag: Tag) -> TagOut:
    return TagOut(id=tag.id, user=tag.user_id, name=tag.name, created=tag.created, updated=tag.updated)


def _sorted(tags: list[Tag]) -> list[TagOut]:
    # The same order whether the record was just built from input or loaded (relationship order_by).
    return [tag_out(t) for t in sorted(tags, key=lambda t: (t.name, t.id))]


def item_out(item: Item) -> ItemOut:
    tags = _sorted(item.tags)
    return ItemOut(
        id=item.id,
        user=item.user_id,
        name=item.name,
        content=item.content,
        files=list(item.files or []),
        tags=[t.id for t in tags],
        expand=ItemExpand(tags=tags),
        created=item.created,
        updated=item.updated,
    )


def client_out(client: Client) -> ClientOut:
    tags = _sorted(client.access_tags)
    return ClientOut(
        id=client.id,
        user=client.user_id,
        name=client.name,
        accessTags=[t.id for t in tags],
        expand=ClientExpand(accessTags=tags),
        created=client.created,
        updated=client.updated,
    )


async def _owned_tags(session: AsyncSession, user_id: str, tag_ids: list[str], field: str) -> list[Tag]:
    """The owner's tags with these ids, or ValidationFailed naming the ids that are not theirs."""
    wanted = list(dict.fromkeys(tag_ids))
    if not wanted:
        return []
    candidates = [i for i in wanted if is_record_id(i)]
    found = (await session.scalars(select(Tag).where(Tag.user_id == user_id, Tag.id.in_(candidates)))).all()
    missing = sorted(set(wanted) - {t.id for t in found})
    if missing:
        shown = ", ".join(repr(i[:40]) for i in missing[:10])
        raise ValidationFailed(f"unknown tag id(s): {shown}", field=field)
    by_id = {t.id: t for t in found}
    return [by_id[i] for i in wanted]


async def _one(session: AsyncSession, query: Select[Any], kind: str, record_id: str) -> Any:
    if not is_record_id(record_id):  # cannot exist; and text like NUL must never reach PostgreSQL
        raise NotFoundError(f"{kind} {record_id[:40]!r} not found")
    row = (await session.scalars(query)).one_or_none()
    if row is None:
        raise NotFoundError(f"{kind} {record_id!r} not found")
    return row


# --- tags -------------------------------------------------------------------------------------------


async def list_tags(source: Source, user_id: str, params: PageQuery) -> dict[str, Any]:
    """One page of the owner's tags, newest first, as ``Page[TagOut]``'s JSON-ready dict."""
    return await list_page(source, TAGS, user_id, params)


async def _tag(session: AsyncSession, user_id: str, tag_id: str) -> Tag:
    return await _one(session, select(Tag).where(Tag.id == tag_id, Tag.user_id == user_id), "tag", tag_id)


async def get_tag(session: AsyncSession, user_id: str, tag_id: str) -> TagOut:
    return tag_out(await _tag(session, user_id, tag_id))


async def create_tag(session: AsyncSession, user_id: str, data: TagCreate) -> TagOut:
    tag = Tag(user_id=user_id, name=data.name)
    session.add(tag)
    await session.flush()
    forget_count(session, user_id, Tag.__tablename__)
    return tag_out(tag)


async def update_tag(session: AsyncSession, user_id: str, tag_id: str, data: TagUpdate) -> TagOut:
    tag = await _tag(session, user_id, tag_id)
    if data.name is not None:
        tag.name = data.name
    tag.updated = utcnow()
    await session.flush()
    return tag_out(tag)


async def delete_tag(session: AsyncSession, user_id: str, tag_id: str) -> None:
    await _delete(session, Tag, user_id, tag_id, "tag")


async def _delete(session: AsyncSession, model: Any, user_id: str, record_id: str, kind: str) -> None:
    if not is_record_id(record_id):
        raise NotFoundError(f"{kind} {record_id[:40]!r} not found")
    result = await session.execute(delete(model).where(model.id == record_id, model.user_id == user_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"{kind} {record_id!r} not found")
    forget_count(session, user_id, model.__tablename__)


# --- items ------------------------------------------------------------------------------------------

_ITEM = select(Item).options(selectinload(Item.tags))


async def list_items(source: Source, user_id: str, params: PageQuery) -> dict[str, Any]:
    """One page of the owner's items with their tags: the hot read path of the REST API and MCP.

    ``Page[ItemOut]``'s JSON-ready dict, from one statement (``data/lists.py``).
    """
    return await list_page(source, ITEMS, user_id, params)


async def _items_changed(session: AsyncSession, user_id: str) -> None:
    """After inserting or deleting one of the owner's items, in the same transaction: moves the
    version the deep pages' rank marks are checked against (data/marks.py). On PostgreSQL the row
    lock also orders concurrent item writes of one user, so committed versions never repeat."""
    await session.execute(
        update(User).where(User.id == user_id).values(items_version=User.items_version + 1),
        execution_options={"synchronize_session": False},
    )


async def _item(session: AsyncSession, user_id: str, item_id: str) -> Item:
    return await _one(session, _ITEM.where(Item.id == item_id, Item.user_id == user_id), "item", item_id)


async def get_item(session: AsyncSession, user_id: str, item_id: str) -> ItemOut:
    return item_out(await _item(session, user_id, item_id))


async def create_item(session: AsyncSession, user_id: str, data: ItemCreate) -> ItemOut:
    tags = await _owned_tags(session, user_id, data.tags, "tags")
    item = Item(user_id=user_id, name=data.name, content=data.content, files=list(data.files), tags=tags)
    session.add(item)
    await session.flush()
    await _items_changed(session, user_id)
    forget_count(session, user_id, Item.__tablename__)
    return item_out(item)


async def update_item(session: AsyncSession, user_id: str, item_id: str, data: ItemUpdate) -> ItemOut:
    item = await _item(session, user_id, item_id)
    if data.tags is not None:
        item.tags = await _owned_tags(session, user_id, data.tags, "tags")
    if data.name is not None:
        item.name = data.name
    if data.content is not None:
        item.content = data.content
    if data.files is not None:
        item.files = list(data.files)
    item.updated = utcnow()
    await session.flush()
    return item_out(item)


async def delete_item(session: AsyncSession, user_id: str, item_id: str) -> None:
    await _delete(session, Item, user_id, item_id, "item")
    await _items_changed(session, user_id)


# --- clients ----------------------------------------------------------------------------------------

_CLIENT = select(Client).options(selectinload(Client.access_tags))


async def list_clients(source: Source, user_id: str, params: PageQuery) -> dict[str, Any]:
    """One page of the owner's clients with their access tags, as ``Page[ClientOut]``'s dict."""
    return await list_page(source, CLIENTS, user_id, params)


async def _client(session: AsyncSession, user_id: str, client_id: str) -> Client:
    query = _CLIENT.where(Client.id == client_id, Client.user_id == user_id)
    return await _one(session, query, "client", client_id)


async def get_client(session: AsyncSession, user_id: str, client_id: str) -> ClientOut:
    return client_out(await _client(session, user_id, client_id))


async def create_client(session: AsyncSession, user_id: str, data: ClientCreate) -> ClientOut:
    tags = await _owned_tags(session, user_id, data.accessTags, "accessTags")
    client = Client(user_id=user_id, name=data.name, access_tags=tags)
    session.add(client)
    await session.flush()
    forget_count(session, user_id, Client.__tablename__)
    return client_out(client)


async def update_client(session: AsyncSession, user_id: str, client_id: str, data: ClientUpdate) -> ClientOut:
    client = await _client(session, user_id, client_id)
    if data.accessTags is not None:
        client.access_tags = await _owned_tags(session, user_id, data.accessTags, "accessTags")
    if data.name is not None:
        client.name = data.name
    client.updated = utcnow()
    await session.flush()
    return client_out(client)


async def delete_client(session: AsyncSession, user_id: str, client_id: str) -> None:
    await _delete(session, Client, user_id, client_id, "client")
