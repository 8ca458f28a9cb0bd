"""Undoing a delete: a deleted record is kept whole for ``settings.undo_window``, and its owner may
bring it back once, with the same id, fields, tags and files.

Why a table of snapshots and not a "deleted" flag on each record: the list statement
(data/lists.py) is the hot path of REST and MCP, and every read would have to leave deleted rows
out; a snapshot costs a few reads and one insert on the (rare) delete, and nothing anywhere else.

What a snapshot holds is found from the schema, not written per kind: the record's row, every row
of another table that the delete removed with it (a foreign key ``ON DELETE CASCADE``: its tag
links, an item's file rows) and the keys of rows the delete emptied (``ON DELETE SET NULL``: an
app's consent that named a deleted client profile). An undo puts them back, leaving out links to
what has since been deleted itself. An item's file bytes stay in the blob store meanwhile:
``files.sweep_orphans`` keeps the blobs a snapshot names, and cleanup (``remove_expired``) removes
the expired snapshots and their bytes.

Every delete is kept, whoever made it (the web app, a REST token, an MCP app): a model deleting
a note by mistake is the likeliest accident. Undo is for the owner only, from the web app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp import sizes
from axiom_mcp.data import fulltext
from axiom_mcp.data.counts import forget_count
from axiom_mcp.data.file_bytes import bytes_used, one_writer_at_a_time
from axiom_mcp.data.kinds import KINDS, Kind
from axiom_mcp.data.schemas import is_record_id
from axiom_mcp.db.tables import DeletedRecord, ItemFile, OAuthConsent, UTCDateTime
from axiom_mcp.errors import AxiomError, ConflictError, NotFoundError
from axiom_mcp.ids import utcnow

RECENT_SHOWN = 20
"""At most this many recently deleted records are offered on a list page."""


class NothingToUndo(NotFoundError):
    """No such delete of the person's: never made, another person's, undone already, or cleaned up.

    Its message is for the person (a plain NotFoundError's is not shown on a web page)."""

    def __init__(self) -> None:
        super().__init__("There is nothing to undo: an undo works once, for a short while after a delete.")


class UndoExpired(AxiomError):
    """The delete is older than the undo window: the record is gone for good."""

    status_code = 410
    code = "undo_expired"


@dataclass(frozen=True)
class DeletedOut:
    id: str
    """The undo's id (what the Undo button posts)."""
    kind: str
    record_id: str
    name: str
    deleted: datetime
    until: datetime | None
    """When undo stops working (None from ``keep``, which is not told the window)."""


@dataclass(frozen=True)
class Restored:
    kind: Kind
    record_id: str
    name: str
    apps: tuple[str, ...]
    """Client ids of consents that got their client profile back (their cached views are stale)."""


def _out(row: DeletedRecord, window: timedelta | None) -> DeletedOut:
    return DeletedOut(id=row.id, kind=row.kind, record_id=row.record_id, name=row.name, deleted=row.deleted,
                      until=None if window is None else row.deleted + window)


# --- the rows that go with a record --------------------------------------------------------------


def _dependents(table: Table) -> list[tuple[Table, str, str | None]]:
    """(table, its column pointing at ``table``'s id, ondelete) for every foreign key to ``table``."""
    found = []
    for other in table.metadata.sorted_tables:
        for key in other.foreign_keys:
            if key.column.table is table and other.name != DeletedRecord.__tablename__:
                found.append((other, key.parent.name, key.ondelete.upper() if key.ondelete else None))
    return found


def _json(table: Table, row: Any) -> dict[str, Any]:
    return {c.name: (row[c.name].isoformat() if isinstance(row[c.name], datetime) else row[c.name])
            for c in table.columns}


def _loaded(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    return {name: (datetime.fromisoformat(value) if value is not None and isinstance(table.c[name].type, UTCDateTime)
                   else value) for name, value in values.items()}


async def keep(session: AsyncSession, kind: Kind, user_id: str, record_id: str) -> DeletedOut | None:
    """Snapshot the owner's record (call it in the deleting transaction, before the delete); None if
    there is no such record."""
    table: Table = kind.table.__table__
    row = (await session.execute(
        select(table).where(table.c.id == record_id, table.c.user_id == user_id)
    )).mappings().one_or_none()
    if row is None:
        return None
    snapshot: dict[str, Any] = {"row": _json(table, row), "cascade": {}, "set_null": {}}
    for other, column, ondelete in _dependents(table):
        rows = (await session.execute(select(other).where(other.c[column] == record_id))).mappings().all()
        if not rows:
            continue
        if ondelete == "CASCADE":
            snapshot["cascade"][other.name] = [_json(other, r) for r in rows]
        elif ondelete == "SET NULL":
            keys = [c.name for c in other.primary_key.columns]
            snapshot["set_null"][other.name] = {"column": column, "keys": [[r[k] for k in keys] for r in rows]}
    blob_keys = [r["storage_key"] for r in snapshot["cascade"].get(ItemFile.__tablename__, [])]
    kept = DeletedRecord(user_id=user_id, kind=kind.many, record_id=record_id, name=row["name"],
                         snapshot=snapshot, blob_keys=blob_keys, deleted=utcnow())
    session.add(kept)
    await session.flush()
    return _out(kept, None)


# --- reading and undoing -------------------------------------------------------------------------


async def _owned(session: AsyncSession, user_id: str, undo_id: str) -> DeletedRecord:
    row = await session.scalar(select(DeletedRecord).where(DeletedRecord.id == undo_id,
                                                           DeletedRecord.user_id == user_id)) \
        if is_record_id(undo_id) else None
    if row is None:
        raise NothingToUndo()
    return row


async def get(session: AsyncSession, user_id: str, undo_id: str, window: timedelta) -> DeletedOut:
    """The owner's deleted record (expired or not); NotFoundError for anyone else's, or one undone."""
    return _out(await _owned(session, user_id, undo_id), window)


async def recent(session: AsyncSession, user_id: str, kind: Kind, window: timedelta) -> list[DeletedOut]:
    """The owner's records of ``kind`` deleted within the window, newest first."""
    rows = await session.scalars(
        select(DeletedRecord).where(DeletedRecord.user_id == user_id, DeletedRecord.kind == kind.many,
                                    DeletedRecord.deleted > utcnow() - window)
        .order_by(DeletedRecord.deleted.desc(), DeletedRecord.id).limit(RECENT_SHOWN)
    )
    return [_out(row, window) for row in rows]


async def undoable(session: AsyncSession, user_id: str, window: timedelta) -> dict[str, DeletedOut]:
    """The owner's deletes that can still be undone, by the deleted record's id (for activity rows)."""
    rows = await session.scalars(
        select(DeletedRecord).where(DeletedRecord.user_id == user_id, DeletedRecord.deleted > utcnow() - window)
        .order_by(DeletedRecord.deleted).limit(RECENT_SHOWN * 5)
    )
    return {row.record_id: _out(row, window) for row in rows}


async def _still_there(session: AsyncSession, table: Table, values: dict[str, Any], skip: str, user_id: str) -> bool:
    """Whether every other row ``values`` points at still exists (and is the owner's, where it has one)."""
    for key in table.foreign_keys:
        name = key.parent.name
        if name == skip or values.get(name) is None:
            continue
        target = key.column.table
        if target.name == "users":  # the owner: it is they who undo
            if values[name] != user_id:
                return False
            continue
        conditions = [key.column == values[name]]
        if "user_id" in target.c:
            conditions.append(target.c.user_id == user_id)
        if not await session.scalar(select(exists().where(and_(*conditions)))):
            return False
    return True


async def restore(
    session: AsyncSession, user_id: str, undo_id: str, window: timedelta, *, storage_quota: int
) -> Restored:
    """Bring the owner's deleted record back, once: NotFoundError for another person's or an undone
    one, UndoExpired past the window, ConflictError if its id was taken meanwhile or its files no
    longer fit in ``storage_quota`` (the space they freed may have been used since)."""
    found = await _owned(session, user_id, undo_id)
    kind = KINDS.get(found.kind)
    if kind is None or found.deleted + window <= utcnow():
        raise UndoExpired(f"Too late to undo: “{found.name}” was deleted more than {_minutes(window)} ago, "
                          f"and is gone for good.")
    # Taking the snapshot's row first makes the undo happen once: a second one finds nothing (or, on
    # PostgreSQL, waits for the first to commit, then finds nothing).
    taken = await session.execute(delete(DeletedRecord).where(DeletedRecord.id == found.id))
    if taken.rowcount == 0:  # type: ignore[attr-defined]
        raise NothingToUndo()
    table: Table = kind.table.__table__
    snapshot = found.snapshot
    files = snapshot["cascade"].get(ItemFile.__tablename__, [])
    if files:
        await one_writer_at_a_time(session, user_id)
    try:
        await session.execute(insert(table).values(**_loaded(table, snapshot["row"])))
        for name, rows in snapshot["cascade"].items():
            other = table.metadata.tables[name]
            column = next(c for c, t in ((k.parent.name, k.column.table) for k in other.foreign_keys) if t is table)
            for values in rows:
                if await _still_there(session, other, values, column, user_id):
                    await session.execute(insert(other).values(**_loaded(other, values)))
    except IntegrityError:
        # Its id taken again, or (a tag) its name: names are unique per person (migration 0017).
        raise ConflictError(f"“{found.name}” cannot come back: its name (or its id) is in use again. "
                            f"Rename the other one, then undo.") from None
    if files and (used := await bytes_used(session, user_id)) > storage_quota:
        brought = sum(int(values["size"]) for values in files)
        raise ConflictError(
            f"“{found.name}” cannot come back: its files ({sizes.in_words(brought)}) no longer fit in your storage "
            f"({sizes.in_words(used - brought)} of {sizes.in_words(storage_quota)} used). Delete some files, then undo.")
    apps: list[str] = []
    for name, emptied in snapshot["set_null"].items():
        other = table.metadata.tables[name]
        keys = list(other.primary_key.columns)
        for values in emptied["keys"]:
            matched = [k == v for k, v in zip(keys, values, strict=True)]
            where = and_(*matched, other.c[emptied["column"]].is_(None))
            if other.name == OAuthConsent.__tablename__:
                where = and_(where, other.c.user_id == user_id)
                client = await session.scalar(select(other.c.client_id).where(where))
                if client is not None:
                    apps.append(client)
            await session.execute(update(other).where(where).values({emptied["column"]: found.record_id}))
    # The search documents (data/fulltext.py): an item's went with it, a tag's name left its items'.
    await fulltext.refresh_record(session, kind.table, found.record_id)
    for each in KINDS.values():  # totals, restricted views' too, may change with the links
        forget_count(session, user_id, each.many)
    return Restored(kind=kind, record_id=found.record_id, name=found.name, apps=tuple(apps))


def _minutes(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 60:
        return f"{seconds} seconds"
    return "1 minute" if seconds == 60 else f"{seconds // 60} minutes"


def window_in_words(window: timedelta) -> str:
    """The undo window as a page says it ("10 minutes")."""
    return _minutes(window)


# --- held bytes and expiry -----------------------------------------------------------------------


async def held_blob_keys(session: AsyncSession) -> set[str]:
    """The blobs the snapshots hold (the orphan sweep leaves them): few, a window's deletes."""
    return {key for names in await session.scalars(select(DeletedRecord.blob_keys)) for key in names}


async def user_blob_keys(session: AsyncSession, user_id: str) -> list[str]:
    """The bytes every snapshot of the person holds (their account is being deleted)."""
    return [k for names in await session.scalars(select(DeletedRecord.blob_keys).where(DeletedRecord.user_id == user_id))
            for k in names]


async def remove_expired(session: AsyncSession, window: timedelta, now: datetime | None = None) -> tuple[int, list[str]]:
    """Delete the snapshots past the window: (how many, the blobs of their files, to remove with
    ``files.remove_blobs``; left alone they become orphans a later sweep removes)."""
    before = (now or utcnow()) - window
    gone = (await session.execute(
        delete(DeletedRecord).where(DeletedRecord.deleted <= before).returning(DeletedRecord.blob_keys)
    )).scalars().all()
    return len(gone), [k for names in gone for k in names]
