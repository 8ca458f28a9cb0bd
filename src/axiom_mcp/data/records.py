"""The user's records of every kind (data/kinds.py): list, get, create, update, delete, always scoped
to one owner.

A tag list in input (an item's ``tags``, a client's ``accessTags``) must name the owner's own tags;
anything else is refused naming the field, so nobody can attach (or learn of) another user's tag.
A kind's rich text is stored as sanitized HTML, whatever ``format`` it was written in.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from axiom_mcp.data.content import to_stored
from axiom_mcp.data.counts import forget_count
from axiom_mcp.data.kinds import Kind
from axiom_mcp.data.lists import Source, list_page, page_data
from axiom_mcp.data.schemas import Page, PageQuery, TagOut, is_record_id
from axiom_mcp.data.files import item_blob_keys
from axiom_mcp.db.tables import Item, Tag
from axiom_mcp.errors import NotFoundError, ValidationFailed
from axiom_mcp.ids import utcnow


def tag_out(tag: Tag) -> TagOut:
    return TagOut(id=tag.id, user=tag.user_id, name=tag.name, created=tag.created, updated=tag.updated)


def record_out(kind: Kind, row: Any) -> Any:
    """The kind's output model of a loaded (or just written) row."""
    values: dict[str, Any] = {"id": row.id, "user": row.user_id, "created": row.created, "updated": row.updated}
    for column in kind.columns:
        value = getattr(row, column)
        values[column] = list(value) if isinstance(value, list) else value
    for derived in kind.derived:
        values[derived.name] = derived.compute(values[derived.source])
    if kind.relation is not None:
        # The same order whether the record was just built from input or loaded (relationship order_by).
        tags = [tag_out(t) for t in sorted(getattr(row, kind.relation.attribute), key=lambda t: (t.name, t.id))]
        values[kind.relation.field] = [t.id for t in tags]
        values["expand"] = {kind.relation.field: tags}
    return kind.out(**values)


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


def _query(kind: Kind) -> Select[Any]:
    query = select(kind.table)
    if kind.relation is not None:
        query = query.options(selectinload(getattr(kind.table, kind.relation.attribute)))
    return query


async def _row(session: AsyncSession, kind: Kind, user_id: str, record_id: str) -> Any:
    if not is_record_id(record_id):  # cannot exist; and text like NUL must never reach PostgreSQL
        raise NotFoundError(f"{kind.one} {record_id[:40]!r} not found")
    table = kind.table
    row = (await session.scalars(_query(kind).where(table.id == record_id, table.user_id == user_id))).one_or_none()
    if row is None:
        raise NotFoundError(f"{kind.one} {record_id!r} not found")
    return row


async def _assign(session: AsyncSession, kind: Kind, user_id: str, row: Any, data: BaseModel) -> None:
    """``data``'s fields written onto ``row``; None (a patch's left-out field) keeps the value."""
    for name in type(data).model_fields:
        value = getattr(data, name)
        if value is None or (kind.rich is not None and name == "format"):
            continue
        if name == kind.rich:
            value = to_stored(value, data.format)  # type: ignore[attr-defined]
        elif kind.relation is not None and name == kind.relation.field:
            value = await _owned_tags(session, user_id, value, name)
        elif isinstance(value, list):
            value = list(value)
        setattr(row, kind.attribute(name), value)


async def list_records(kind: Kind, source: Source, user_id: str, params: PageQuery) -> Page[Any]:
    """One page of the owner's records of ``kind``, newest first (data/lists.py)."""
    return await list_page(source, kind, user_id, params)


async def list_records_data(kind: Kind, source: Source, user_id: str, params: PageQuery) -> dict[str, Any]:
    """The same page as the JSON-ready dict its model dumps: for a face that only writes it out."""
    return await page_data(source, kind, user_id, params)


async def get_record(kind: Kind, session: AsyncSession, user_id: str, record_id: str) -> Any:
    return record_out(kind, await _row(session, kind, user_id, record_id))


async def create_record(kind: Kind, session: AsyncSession, user_id: str, data: BaseModel) -> Any:
    row = kind.table(user_id=user_id)
    await _assign(session, kind, user_id, row, data)
    session.add(row)
    await session.flush()
    forget_count(session, user_id, kind.many)
    return record_out(kind, row)


async def update_record(kind: Kind, session: AsyncSession, user_id: str, record_id: str, data: BaseModel) -> Any:
    row = await _row(session, kind, user_id, record_id)
    await _assign(session, kind, user_id, row, data)
    row.updated = utcnow()
    await session.flush()
    return record_out(kind, row)


async def delete_record(kind: Kind, session: AsyncSession, user_id: str, record_id: str) -> list[str]:
    """Delete the record; the blobs of its files, to remove (``files.remove_blobs``) once this commits."""
    if not is_record_id(record_id):
        raise NotFoundError(f"{kind.one} {record_id[:40]!r} not found")
    table = kind.table
    blob_keys = await item_blob_keys(session, user_id, record_id) if table is Item else []
    result = await session.execute(delete(table).where(table.id == record_id, table.user_id == user_id))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"{kind.one} {record_id!r} not found")
    forget_count(session, user_id, kind.many)
    return blob_keys
