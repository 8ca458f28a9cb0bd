"""Files attached to items: streamed into a blob store, listed, downloaded, deleted, counted in a quota.

The bytes are a blob (``axiom_mcp.blobs``) under ``<user id>/<file id>``; the ``files`` row is
written only once the blob is complete, so every row has its bytes and a crash leaves at most an
orphan blob, which ``sweep_orphans`` removes. Every function is owner-checked: another person's
file or item behaves exactly like one that does not exist.

Limits: ``max_file_size`` per file and the quota are enforced while the bytes stream (nothing
kept past them) and again, with the person's row locked, when the row is written, so two
uploads at once cannot both take the last bytes of a quota; ``MAX_FILES_PER_ITEM`` per item.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any
from datetime import datetime, timedelta

import puremagic
from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.blobs.store import BlobMissing, BlobStore, BlobTooLarge
from axiom_mcp.db.engine import Database
from axiom_mcp.data import undo
from axiom_mcp.data.access import View
from axiom_mcp.data.file_bytes import bytes_used, one_writer_at_a_time
from axiom_mcp.data.fulltext import refresh
from axiom_mcp.db.tables import NAME_MAX, Item, ItemFile, item_tags
from axiom_mcp.errors import AxiomError, NotFoundError, ValidationFailed
from axiom_mcp.ids import new_id, utcnow
from axiom_mcp.settings import Settings

log = logging.getLogger("axiom.files")

MAX_FILES_PER_ITEM = 99
"""As the original product."""
ORPHAN_AGE = timedelta(hours=1)
"""A blob without a row is removed once this old: younger ones may be uploads about to write theirs."""
SNIFF_BYTES = 64 * 1024
"""How much of the start of a file its type is read from."""
TEXT = "text/plain"
UNKNOWN = "application/octet-stream"
_SWEEP_BATCH = 500


class FileTooLarge(AxiomError):
    status_code = 413
    code = "file_too_large"


class QuotaExceeded(AxiomError):
    status_code = 413
    code = "storage_quota_exceeded"


class TooManyFiles(AxiomError):
    status_code = 409
    code = "too_many_files"


class RangeNotSatisfiable(AxiomError):
    """A byte range outside the file (HTTP 416)."""

    status_code = 416
    code = "range_not_satisfiable"


class FileOut(BaseModel):
    id: str
    item_id: str
    name: str
    size: int
    content_type: str
    sha256: str
    created: datetime


@dataclass(frozen=True)
class Download:
    """A file's description and its bytes ``start`` to ``end`` (exclusive), as a stream to iterate once."""

    file: FileOut
    start: int
    end: int
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True)
class Usage:
    used: int
    """Bytes of every file the person keeps."""
    quota: int
    files: int


def _out(row: ItemFile) -> FileOut:
    return FileOut(
        id=row.id, item_id=row.item_id, name=row.name, size=row.size,
        content_type=row.content_type, sha256=row.sha256, created=row.created,
    )


# --- names and types ---------------------------------------------------------------------------------


def clean_name(name: str) -> str:
    """The name as stored: its last path segment, NFC; refused empty, too long, or with invisible controls."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if base in ("", ".", ".."):
        raise ValidationFailed("the file needs a name", field="name")
    # Control and format characters (bidi overrides among them) can disguise a name's extension.
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in base):
        raise ValidationFailed("the file name holds control or invisible formatting characters", field="name")
    if len(base) > NAME_MAX:
        raise ValidationFailed(f"the file name is longer than {NAME_MAX} characters", field="name")
    return base


def _looks_like_text(head: bytes, complete: bool) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sniffed bytes is still text.
        if complete or exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return not any(ord(c) < 32 and c not in "\t\n\r\f\x1b" or ord(c) == 127 for c in text)


def _textual(mime: str) -> bool:
    return mime.startswith("text/") or any(word in mime for word in ("json", "xml", "javascript", "svg"))


def content_type_of(head: bytes, *, complete: bool) -> str:
    """The type read from a file's first bytes (``complete``: they are the whole file), never its name.

    Binary formats come from their signatures; anything else that reads as UTF-8 text is
    text/plain (HTML, SVG and scripts included: stored and served as text, never rendered)."""
    if not head:
        return TEXT
    try:
        matches = sorted(puremagic.magic_string(head), key=lambda m: m.confidence, reverse=True)
    except (puremagic.PureError, ValueError):
        matches = []
    binary = [m for m in matches if m.mime_type and not _textual(m.mime_type)]
    if _looks_like_text(head, complete):
        # Short signatures ("BM", "MZ") also start ordinary sentences: only a long one outweighs text.
        strong = [m for m in binary if m.confidence >= 0.4]
        return strong[0].mime_type if strong else TEXT
    return binary[0].mime_type if binary else UNKNOWN


class _Head:
    """Passes a stream through, keeping its first SNIFF_BYTES for the type."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self.chunks = chunks
        self.data = bytearray()
        self.complete = True

    async def stream(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            if len(self.data) < SNIFF_BYTES:
                self.data += chunk[: SNIFF_BYTES - len(self.data)]
            if len(self.data) >= SNIFF_BYTES:
                self.complete = False
            yield chunk


# --- reads -------------------------------------------------------------------------------------------


async def _owned_item(session: AsyncSession, user_id: str, item_id: str) -> None:
    found = await session.scalar(select(Item.id).where(Item.id == item_id, Item.user_id == user_id))
    if found is None:
        raise NotFoundError("item not found", field="item")


async def _count(session: AsyncSession, item_id: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(ItemFile).where(ItemFile.item_id == item_id)) or 0)


async def list_files(session: AsyncSession, user_id: str, item_id: str) -> list[FileOut]:
    """The item's files, oldest first; NotFoundError for another person's item."""
    await _owned_item(session, user_id, item_id)
    rows = await session.scalars(
        select(ItemFile).where(ItemFile.item_id == item_id, ItemFile.user_id == user_id)
        .order_by(ItemFile.created, ItemFile.id)
    )
    return [_out(row) for row in rows]


def _in_view(query: Any, view: View | None) -> Any:
    """Only files of items ``view`` shows (a connection restricted to a client profile sees the items
    carrying one of its access tags)."""
    if view is None or view.access_tags is None:
        return query
    shown = select(item_tags.c.item_id).where(item_tags.c.tag_id.in_(sorted(view.access_tags)))
    return query.where(ItemFile.item_id.in_(shown))


async def list_user_files(
    session: AsyncSession, user_id: str, *, offset: int, limit: int, view: View | None = None
) -> list[FileOut]:
    """A page of all the person's files (those ``view`` shows), newest first (for clients that browse them)."""
    rows = await session.scalars(_in_view(
        select(ItemFile).where(ItemFile.user_id == user_id), view
    ).order_by(ItemFile.created.desc(), ItemFile.id.desc()).offset(offset).limit(limit))
    return [_out(row) for row in rows]


async def _file(session: AsyncSession, user_id: str, file_id: str, view: View | None = None) -> ItemFile:
    row = await session.scalar(_in_view(select(ItemFile).where(ItemFile.id == file_id, ItemFile.user_id == user_id), view))
    if row is None:
        raise NotFoundError("file not found", field="file")
    return row


async def get_file(session: AsyncSession, user_id: str, file_id: str, view: View | None = None) -> FileOut:
    """The file, if it is the person's (and ``view`` shows its item); else NotFoundError."""
    return _out(await _file(session, user_id, file_id, view))


async def storage_usage(session: AsyncSession, settings: Settings, user_id: str) -> Usage:
    count = await session.scalar(select(func.count()).select_from(ItemFile).where(ItemFile.user_id == user_id))
    return Usage(used=await bytes_used(session, user_id), quota=settings.storage_quota, files=int(count or 0))


async def open_file(
    session: AsyncSession, blobs: BlobStore, user_id: str, file_id: str, start: int = 0, end: int | None = None
) -> Download:
    """The file's bytes ``start`` to ``end`` (exclusive; None: to its end), streamed from the blob store."""
    row = await _file(session, user_id, file_id)
    stop = row.size if end is None else end
    if not 0 <= start <= stop <= row.size:
        raise RangeNotSatisfiable(f"the file has {row.size} bytes", field="range")
    try:
        chunks = await blobs.open(row.storage_key, start, stop)
    except BlobMissing:
        log.error("file %s has a row but no blob (%s)", row.id, row.storage_key)
        raise NotFoundError("file not found", field="file") from None
    return Download(file=_out(row), start=start, end=stop, chunks=chunks)


# --- writes ------------------------------------------------------------------------------------------


def _over_quota(settings: Settings, used: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"the file does not fit in your storage ({used} of {settings.storage_quota} bytes used)", field="file"
    )


def _too_many() -> TooManyFiles:
    return TooManyFiles(f"an item holds at most {MAX_FILES_PER_ITEM} files", field="files")


async def add_file(
    db: Database, blobs: BlobStore, settings: Settings,
    user_id: str, item_id: str, name: str, chunks: AsyncIterable[bytes],
) -> FileOut:
    """Attach the streamed bytes to the person's item as ``name``; its type comes from the bytes.

    Raises NotFoundError (another person's or no item), ValidationFailed (the name), FileTooLarge,
    QuotaExceeded, TooManyFiles; on any of them, or any other failure, nothing is kept."""
    name = clean_name(name)
    async with db.session() as session:
        await _owned_item(session, user_id, item_id)
        if await _count(session, item_id) >= MAX_FILES_PER_ITEM:
            raise _too_many()
        used = await bytes_used(session, user_id)
    room = max(settings.storage_quota - used, 0)
    file_id = new_id()
    key = f"{user_id}/{file_id}"
    head = _Head(chunks)
    try:
        written = await blobs.put(key, head.stream(), limit=min(settings.max_file_size, room))
    except BlobTooLarge:
        if room < settings.max_file_size:
            raise _over_quota(settings, used) from None
        raise FileTooLarge(f"the file is larger than {settings.max_file_size} bytes", field="file") from None
    try:
        async with db.session() as session:
            return await _record(session, settings, user_id, item_id, file_id, key, name, written.size,
                                 written.sha256, content_type_of(bytes(head.data), complete=head.complete))
    except BaseException:
        await remove_blobs(blobs, [key])
        raise


async def _record(
    session: AsyncSession, settings: Settings, user_id: str, item_id: str, file_id: str, key: str,
    name: str, size: int, sha256: str, content_type: str,
) -> FileOut:
    """Write the row, then check the limits with the person's uploads serialized."""
    await one_writer_at_a_time(session, user_id)
    await _owned_item(session, user_id, item_id)
    row = ItemFile(id=file_id, user_id=user_id, item_id=item_id, name=name, size=size,
                   content_type=content_type, sha256=sha256, storage_key=key, created=utcnow())
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # the item was deleted while the bytes streamed
        raise NotFoundError("item not found", field="item") from None
    if await _count(session, item_id) > MAX_FILES_PER_ITEM:
        raise _too_many()
    used = await bytes_used(session, user_id)
    if used > settings.storage_quota:
        raise _over_quota(settings, used - size)
    await refresh(session, [item_id])  # its name is searched (data/fulltext.py)
    return _out(row)


async def delete_file(db: Database, blobs: BlobStore, user_id: str, file_id: str) -> None:
    """Remove the file: its row at once, then its blob (a failure there leaves an orphan for the sweep)."""
    async with db.session() as session:
        gone = (await session.execute(
            delete(ItemFile).where(ItemFile.id == file_id, ItemFile.user_id == user_id)
            .returning(ItemFile.storage_key, ItemFile.item_id)
        )).one_or_none()
        if gone is None:
            raise NotFoundError("file not found", field="file")
        key = gone.storage_key
        await refresh(session, [gone.item_id])
    await remove_blobs(blobs, [key])


# --- items and accounts going away, and orphans ------------------------------------------------------


async def item_blob_keys(session: AsyncSession, user_id: str, item_id: str) -> list[str]:
    """The blobs of an item's files."""
    return list(await session.scalars(
        select(ItemFile.storage_key).where(ItemFile.item_id == item_id, ItemFile.user_id == user_id)
    ))


async def user_blob_keys(session: AsyncSession, user_id: str) -> list[str]:
    """The blobs of all the person's files, those of deleted items kept for undo too: read them in the
    transaction that deletes the account."""
    kept = list(await session.scalars(select(ItemFile.storage_key).where(ItemFile.user_id == user_id)))
    return kept + await undo.user_blob_keys(session, user_id)


async def remove_blobs(blobs: BlobStore, keys: Iterable[str]) -> int:
    """Delete these blobs (once their rows are gone and committed); how many. Failures are logged and
    left to ``sweep_orphans``."""
    removed = 0
    for key in keys:
        try:
            await blobs.delete(key)
            removed += 1
        except Exception:  # noqa: BLE001 - the row is gone already; the sweep retries
            log.warning("could not delete blob %s; the orphan sweep will", key, exc_info=True)
    return removed


async def sweep_orphans(session: AsyncSession, blobs: BlobStore, before: datetime) -> int:
    """Remove blobs last written before ``before`` that no row names (a file's, or a deleted item's kept
    for undo), and uploads abandoned before it."""
    removed = await blobs.remove_partials(before)
    batch: list[str] = []

    async def sweep() -> int:
        kept = set(await session.scalars(select(ItemFile.storage_key).where(ItemFile.storage_key.in_(batch))))
        # After the file rows: a delete committed in between has its snapshot seen here.
        kept |= await undo.held_blob_keys(session)
        orphans = [key for key in batch if key not in kept]
        batch.clear()
        return await remove_blobs(blobs, orphans)

    async for key in blobs.keys_older_than(before):
        batch.append(key)
        if len(batch) >= _SWEEP_BATCH:
            removed += await sweep()
    if batch:
        removed += await sweep()
    return removed
