"""Items, clients and tags: list, get, create, update, delete, always scoped to one owner.

A tag list in input (an item's ``tags``, a client's ``accessTags``) must name the owner's own tags;
anything else is refused naming the field, so nobody can attach (or learn of) another user's tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from axiom_mcp.data.counts import count_cache, forget_count
from axiom_mcp.db.tables import Client, Item, Tag, item_tags
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
    Page,
    PageQuery,
    TagCreate,
    TagOut,
    TagUpdate,
    is_record_id,
)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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


def _filters(session: AsyncSession, model: Any, user_id: str, params: PageQuery, *search: Any) -> list[Any]:
    """The owner's rows, and with ``params.q`` only those whose ``search`` columns contain it."""
    where = [model.user_id == user_id]
    if params.q:
        if session.get_bind().dialect.name == "sqlite":
            # SQLite's ILIKE is lower() LIKE lower(), ASCII only: lower both sides in Python instead.
            pattern = _like(params.q.lower())
            where.append(or_(*(func.axiom_fold(c).like(pattern, escape="\\") for c in search)))
        else:
            pattern = _like(params.q)
            where.append(or_(*(column.ilike(pattern, escape="\\") for column in search)))
    return where


def _page_ids(model: Any, where: list[Any], params: PageQuery) -> Select[Any]:
    """The ids of one page, newest first.

    Half of a deferred join: with the (user_id, created, id) index these come from the index
    alone, so a deep OFFSET skips index entries rather than table rows; the caller then reads just
    those rows (``model.id.in_(...)``).
    """
    order = (model.created.desc(), model.id.desc())
    return select(model.id).where(*where).order_by(*order).limit(params.perPage).offset((params.page - 1) * params.perPage)


async def _total(
    session: AsyncSession, model: Any, user_id: str, where: list[Any], params: PageQuery, on_page: int
) -> int:
    """The owner's number of matching rows.

    On a partly filled page it is known without counting; a large unfiltered total may come from
    the short-lived ``CountCache`` (``counts.py`` says what that trades).
    """
    if 0 < on_page < params.perPage:
        return (params.page - 1) * params.perPage + on_page
    cache = count_cache(session) if not params.q else None
    kind = model.__tablename__
    if cache is not None and (hit := cache.get(user_id, kind)) is not None:
        return hit
    total = int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
    if cache is not None:
        cache.put(user_id, kind, total)
    return total


async def _page(
    session: AsyncSession, query: Select[Any], model: Any, user_id: str, params: PageQuery, *search: Any
) -> tuple[Sequence[Any], int]:
    """One page of ``query`` (newest first) and the owner's total matching rows."""
    where = _filters(session, model, user_id, params, *search)
    page_ids = _page_ids(model, where, params)
    rows = (await session.scalars(query.where(model.id.in_(page_ids)).order_by(model.created.desc(), model.id.desc()))).all()
    return rows, await _total(session, model, user_id, where, params, len(rows))


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


async def list_tags(session: AsyncSession, user_id: str, params: PageQuery) -> Page[TagOut]:
    rows, total = await _page(session, select(Tag), Tag, user_id, params, Tag.name)
    return Page[TagOut].of([tag_out(t) for t in rows], page=params.page, per_page=params.perPage, total=total)


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


_ITEM_COLUMNS = (Item.id, Item.user_id, Item.name, Item.content, Item.files, Item.created, Item.updated)
_TAG_COLUMNS = (Tag.id, Tag.user_id, Tag.name, Tag.created, Tag.updated)


async def list_items(session: AsyncSession, user_id: str, params: PageQuery) -> Page[ItemOut]:
    """One page of the owner's items with their tags: the hot read path of the REST API and MCP.

    One statement reads the page and its tags (a LEFT JOIN over at most ``perPage`` items, picked
    by ``_page_ids``), as plain rows: no second query for the tags, no ORM objects, no ORM
    result processing. The tags
    come in the order ``item_out`` gives them (name, then id).
    """
    where = _filters(session, Item, user_id, params, Item.name, Item.content)
    connection = await session.connection()  # Core execution: no ORM result machinery for plain rows
    rows = await connection.execute(
        select(*_ITEM_COLUMNS, *_TAG_COLUMNS)
        .select_from(Item)
        .outerjoin(item_tags, item_tags.c.item_id == Item.id)
        .outerjoin(Tag, Tag.id == item_tags.c.tag_id)
        .where(Item.id.in_(_page_ids(Item, where, params)))
        .order_by(Item.created.desc(), Item.id.desc(), Tag.name, Tag.id)
    )
    items: list[ItemOut] = []
    for row in rows:
        item_id, owner, name, content, files, created, updated, tag_id, *tag = row
        if not items or items[-1].id != item_id:
            items.append(ItemOut(id=item_id, user=owner, name=name, content=content, files=list(files or []),
                                 tags=[], expand=ItemExpand(tags=[]), created=created, updated=updated))
        if tag_id is not None:
            tag_user, tag_name, tag_created, tag_updated = tag
            items[-1].tags.append(tag_id)
            items[-1].expand.tags.append(
                TagOut(id=tag_id, user=tag_user, name=tag_name, created=tag_created, updated=tag_updated)
            )
    total = await _total(session, Item, user_id, where, params, len(items))
    return Page[ItemOut].of(items, page=params.page, per_page=params.perPage, total=total)


async def _item(session: AsyncSession, user_id: str, item_id: str) -> Item:
    return await _one(session, _ITEM.where(Item.id == item_id, Item.user_id == user_id), "item", item_id)


async def get_item(session: AsyncSession, user_id: str, item_id: str) -> ItemOut:
    return item_out(await _item(session, user_id, item_id))


async def create_item(session: AsyncSession, user_id: str, data: ItemCreate) -> ItemOut:
    tags = await _owned_tags(session, user_id, data.tags, "tags")
    item = Item(user_id=user_id, name=data.name, content=data.content, files=list(data.files), tags=tags)
    session.add(item)
    await session.flush()
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


# --- clients ----------------------------------------------------------------------------------------

_CLIENT = select(Client).options(selectinload(Client.access_tags))


async def list_clients(session: AsyncSession, user_id: str, params: PageQuery) -> Page[ClientOut]:
    rows, total = await _page(session, _CLIENT, Client, user_id, params, Client.name)
    return Page[ClientOut].of(
        [client_out(c) for c in rows], page=params.page, per_page=params.perPage, total=total
    )


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
