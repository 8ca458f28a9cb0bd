"""The user's records of every kind (data/kinds.py): list, get, create, update, delete, always scoped
to one owner, and to what the caller's connection may see (``access.View``; a user id is the
person themself, who sees everything).

A tag list in input (an item's ``tags``, a client's ``accessTags``) must name the owner's own tags;
anything else is refused naming the field, so nobody can attach (or learn of) another user's tag.
A kind's rich text is stored as sanitized HTML, whatever ``format`` it was written in.
A kind's unique field (``Kind.unique``: a tag's name) is refused with ``NameTaken`` when another of
the person's records has it, in any case; two writes at once are decided by the unique index.

A connection restricted to a client profile (``Kind.in_a_view``): of a ``tagged`` kind it sees
only the records carrying one of the profile's access tags, and of their tags only those; any other
id is not found, exactly like another user's. What it creates carries the profile's access tags;
it may only name those; an update that would leave a record without one of them is refused (the
record would drop out of its view), and the record's other tags, which it cannot see, are kept.
Of ``tags`` it reads only the access tags, and changes none; ``hidden`` kinds it cannot touch.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload

from axiom_mcp.data.access import View, Who, as_view, check
from axiom_mcp.data.content import to_stored
from axiom_mcp.data.counts import forget_count
from axiom_mcp.data.kinds import Kind
from axiom_mcp.data.lists import Source, list_page, page_data
from axiom_mcp.data.schemas import Page, PageQuery, TagOut, is_record_id
from axiom_mcp.data import fulltext, undo
from axiom_mcp.data.undo import DeletedOut
from axiom_mcp.db.tables import Item, Tag
from axiom_mcp.errors import NameTaken, NotFoundError, OutOfView, ValidationFailed
from axiom_mcp.ids import utcnow


def tag_out(tag: Tag) -> TagOut:
    return TagOut(id=tag.id, user=tag.user_id, name=tag.name, created=tag.created, updated=tag.updated)


def record_out(kind: Kind, row: Any, view: View | None = None) -> Any:
    """The kind's output model of a loaded (or just written) row, showing only the tags ``view`` sees."""
    values: dict[str, Any] = {"id": row.id, "user": row.user_id, "created": row.created, "updated": row.updated}
    for column in kind.columns:
        value = getattr(row, column)
        values[column] = list(value) if isinstance(value, list) else value
    if kind.relation is not None:
        # The same order whether the record was just built from input or loaded (relationship order_by).
        shown = getattr(row, kind.relation.attribute)
        if view is not None and view.restricted:
            shown = [t for t in shown if t.id in view.access_tags]  # type: ignore[operator]
        tags = [tag_out(t) for t in sorted(shown, key=lambda t: (t.name, t.id))]
        values[kind.relation.field] = [t.id for t in tags]
        values["expand"] = {kind.relation.field: tags}
    return kind.out(**values)


async def _owned_tags(session: AsyncSession, view: View, tag_ids: list[str], field: str) -> list[Tag]:
    """The owner's tags with these ids, or ValidationFailed naming the ids that are not theirs
    (for a restricted view: not among its access tags, which is all of them it can know)."""
    wanted = list(dict.fromkeys(tag_ids))
    if not wanted:
        return []
    candidates = [i for i in wanted if is_record_id(i)]
    if view.restricted:
        candidates = [i for i in candidates if i in view.access_tags]  # type: ignore[operator]
    found = (await session.scalars(select(Tag).where(Tag.user_id == view.user_id, Tag.id.in_(candidates)))).all()
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


def _visible(kind: Kind, view: View) -> list[ColumnElement[bool]]:
    """The conditions that keep a restricted view's records (none for everything)."""
    if not view.restricted:
        return []
    table, tags = kind.table, sorted(view.access_tags)  # type: ignore[arg-type]
    if kind.in_a_view == "tags":
        return [table.id.in_(tags)]
    assert kind.link is not None, f"a {kind.in_a_view!r} kind needs a tag relation"
    link_name, record_column = kind.link
    link = table.__table__.metadata.tables[link_name]
    return [exists().where(link.c[record_column] == table.id, link.c.tag_id.in_(tags))]


async def _row(session: AsyncSession, kind: Kind, view: View, record_id: str) -> Any:
    if not is_record_id(record_id):  # cannot exist; and text like NUL must never reach PostgreSQL
        raise NotFoundError(f"{kind.one} {record_id[:40]!r} not found")
    table = kind.table
    query = _query(kind).where(table.id == record_id, table.user_id == view.user_id, *_visible(kind, view))
    row = (await session.scalars(query)).one_or_none()
    if row is None:
        raise NotFoundError(f"{kind.one} {record_id!r} not found")
    return row


async def _assign(session: AsyncSession, kind: Kind, view: View, row: Any, data: BaseModel, *, creating: bool) -> None:
    """``data``'s fields written onto ``row``; None (a patch's left-out field) keeps the value."""
    for name in type(data).model_fields:
        value = getattr(data, name)
        if value is None or (kind.rich is not None and name == "format"):
            continue
        if name == kind.rich:
            value = to_stored(value, data.format)  # type: ignore[attr-defined]
            for derived, computed in kind.derived_from(name, value).items():
                setattr(row, kind.attribute(derived), computed)
        elif kind.relation is not None and name == kind.relation.field:
            value = await _owned_tags(session, view, value, name)
            if view.restricted and not creating:
                value = _kept_in_view(kind, view, row, value)
        elif isinstance(value, list):
            value = list(value)
        setattr(row, kind.attribute(name), value)
    if view.restricted and creating and kind.relation is not None:
        # What a restricted connection creates, it must see: the profile's access tags, always.
        field = kind.relation.field
        if not view.access_tags:
            raise OutOfView(f"This app's connection sees no {kind.many} (its client profile has no access tags), "
                            f"so it cannot create one.")
        setattr(row, kind.attribute(field), await _owned_tags(session, view, sorted(view.access_tags), field))


def _kept_in_view(kind: Kind, view: View, row: Any, tags: list[Tag]) -> list[Tag]:
    """A restricted view's new tags for ``row``, plus the ones it cannot see (kept), or
    ValidationFailed if the record would drop out of the view."""
    assert kind.relation is not None
    field = kind.relation.field
    if not tags:
        raise ValidationFailed(
            f"this would take the {kind.one} out of what this app can see: keep at least one of the tags its "
            f"connection is limited to (see get_user_tags)", field=field
        )
    unseen = [t for t in getattr(row, kind.relation.attribute) if t.id not in view.access_tags]  # type: ignore[operator]
    return [*tags, *unseen]


async def _holder(kind: Kind, db: AsyncSession | AsyncConnection, user_id: str, row: Any) -> tuple[str, str] | None:
    """(id, value) of another of the person's records whose ``kind.unique`` field folds as ``row``'s."""
    assert kind.unique is not None
    table, key = kind.table, f"{kind.unique}_key"
    query = select(table.id, getattr(table, kind.unique)).where(
        table.user_id == user_id, getattr(table, key) == getattr(row, key), table.id != row.id
    )
    found = (await db.execute(query.limit(1))).first()
    return None if found is None else (found[0], found[1])


def _taken(kind: Kind, holder: tuple[str, str]) -> NameTaken:
    field = kind.unique
    assert field is not None
    return NameTaken(f"You already have a {kind.one} named {holder[1]!r} ({field}s are compared in any case). "
                     f"Use it, or choose another {field}.", field=field, holder=holder[0])


async def _flush(session: AsyncSession, kind: Kind, view: View, row: Any, data: BaseModel) -> None:
    """Write ``row``; NameTaken when another of the person's records has the value of its unique field
    (``Kind.unique``, when ``data`` sets it): seen before writing, or, when a concurrent write
    committed it meanwhile, refused by the unique index."""
    if kind.unique is None or getattr(data, kind.unique, None) is None:
        await session.flush()
        return
    holder = await _holder(kind, session, view.user_id, row)
    if holder is not None:
        raise _taken(kind, holder)
    try:
        await session.flush()
    except IntegrityError as exc:
        # This transaction cannot read any more; the other write has committed (the index waited
        # for it to end), so it is looked up beside.
        async with session.bind.connect() as beside:  # type: ignore[union-attr]
            holder = await _holder(kind, beside, view.user_id, row)
        if holder is None:
            raise
        raise _taken(kind, holder) from exc


async def list_records(kind: Kind, source: Source, who: Who, params: PageQuery) -> Page[Any]:
    """One page of the owner's records of ``kind`` that ``who`` sees, newest first (data/lists.py)."""
    return await list_page(source, kind, who, params)


async def list_records_data(kind: Kind, source: Source, who: Who, params: PageQuery) -> dict[str, Any]:
    """The same page as the JSON-ready dict its model dumps: for a face that only writes it out."""
    return await page_data(source, kind, who, params)


async def get_record(kind: Kind, session: AsyncSession, who: Who, record_id: str) -> Any:
    view = as_view(who)
    check(kind, view, writing=False)
    return record_out(kind, await _row(session, kind, view, record_id), view)


async def create_record(kind: Kind, session: AsyncSession, who: Who, data: BaseModel) -> Any:
    view = as_view(who)
    check(kind, view, writing=True)
    row = kind.table(user_id=view.user_id)
    await _assign(session, kind, view, row, data, creating=True)
    session.add(row)
    await _flush(session, kind, view, row, data)
    await fulltext.refresh_record(session, kind.table, row.id)  # its search documents
    forget_count(session, view.user_id, kind.many)
    return record_out(kind, row, view)


async def update_record(kind: Kind, session: AsyncSession, who: Who, record_id: str, data: BaseModel) -> Any:
    view = as_view(who)
    check(kind, view, writing=True)
    row = await _row(session, kind, view, record_id)
    await _assign(session, kind, view, row, data, creating=False)
    row.updated = utcnow()
    await _flush(session, kind, view, row, data)
    await fulltext.refresh_record(session, kind.table, row.id)  # its search documents
    if kind.relation is not None and getattr(data, kind.relation.field, None) is not None:
        forget_count(session, view.user_id, kind.many)  # the totals of restricted views may change
    return record_out(kind, row, view)


async def delete_record(kind: Kind, session: AsyncSession, who: Who, record_id: str) -> DeletedOut:
    """Delete the record, keeping it whole for the owner's undo (data/undo.py): its files' bytes stay
    until the undo window ends. What comes back names the undo."""
    view = as_view(who)
    check(kind, view, writing=True)
    row = await _row(session, kind, view, record_id)  # what the view cannot see is not found
    kept = await undo.keep(session, kind, view.user_id, row.id)
    assert kept is not None
    session.expunge(row)
    table = kind.table
    tagged = await fulltext.items_tagged(session, record_id) if table is Tag else []
    await session.execute(delete(table).where(table.id == record_id, table.user_id == view.user_id))
    await fulltext.refresh(session, tagged, tags_only=True)  # an item's document goes with it; a tag leaves its items'
    forget_count(session, view.user_id, kind.many)
    return kept
