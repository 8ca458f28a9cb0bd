"""A person's data as one archive, and back: ``axiom user export`` / ``import`` and the account page.

The archive is a zip holding ``axiom-export.json``: the profile, tags, items, clients, connected
apps and activity, every record with its id and timestamps, so an import into another Axiom
recreates them as they were, connected apps included (what each was allowed, and whether it sees
only a client profile's items). What is not carried: the password (the import sets a new one) and
the apps' tokens (an app signs in again, and its consent page starts from what was allowed).
Records are written to the zip one at a time, so an export never holds them all.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from typing import IO, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from axiom_mcp.data import fulltext, users
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import Name, storable
from axiom_mcp.db.fold import name_key
from axiom_mcp.db.tables import (
    Activity,
    Client,
    Item,
    OAuthClient,
    OAuthConsent,
    Tag,
    User,
    client_access_tags,
    item_tags,
)
from axiom_mcp.errors import ConflictError, ValidationFailed
from axiom_mcp.ids import new_id, utcnow

FORMAT = "axiom-export"
VERSION = 1
MEMBER = "axiom-export.json"
_CHUNK = 500


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def _stream(session: AsyncSession, query: Any) -> AsyncIterator[Any]:
    result = await session.stream_scalars(query.execution_options(yield_per=_CHUNK))
    async for row in result:
        yield row


async def _tags(session: AsyncSession, user_id: str) -> AsyncIterator[dict[str, Any]]:
    async for tag in _stream(session, select(Tag).where(Tag.user_id == user_id).order_by(Tag.created, Tag.id)):
        yield {"id": tag.id, "name": tag.name, "created": _stamp(tag.created), "updated": _stamp(tag.updated)}


async def _items(session: AsyncSession, user_id: str) -> AsyncIterator[dict[str, Any]]:
    query = select(Item).where(Item.user_id == user_id).options(selectinload(Item.tags)).order_by(Item.created, Item.id)
    async for item in _stream(session, query):
        yield {
            "id": item.id, "name": item.name, "content": item.content, "files": list(item.files or []),
            "tags": sorted(t.id for t in item.tags), "created": _stamp(item.created), "updated": _stamp(item.updated),
        }


async def _clients(session: AsyncSession, user_id: str) -> AsyncIterator[dict[str, Any]]:
    query = (
        select(Client).where(Client.user_id == user_id).options(selectinload(Client.access_tags))
        .order_by(Client.created, Client.id)
    )
    async for client in _stream(session, query):
        yield {
            "id": client.id, "name": client.name, "accessTags": sorted(t.id for t in client.access_tags),
            "created": _stamp(client.created), "updated": _stamp(client.updated),
        }


async def _connected_apps(session: AsyncSession, user_id: str) -> AsyncIterator[dict[str, Any]]:
    apps = await session.execute(
        select(OAuthConsent, OAuthClient.client_name)
        .outerjoin(OAuthClient, OAuthClient.client_id == OAuthConsent.client_id)
        .where(OAuthConsent.user_id == user_id).order_by(OAuthConsent.created)
    )
    for consent, name in apps:
        yield {
            "client_id": consent.client_id, "client_name": name or "", "scopes": consent.scopes.split(),
            "restricted": consent.restricted, "profile_id": consent.profile_id, "created": _stamp(consent.created),
            "updated": _stamp(consent.updated), "last_used": _stamp(consent.last_used),
        }


async def _activity(session: AsyncSession, user_id: str) -> AsyncIterator[dict[str, Any]]:
    async for action in _stream(session, select(Activity).where(Activity.user_id == user_id).order_by(Activity.at)):
        yield {
            "client_id": action.client_id, "at": _stamp(action.at), "surface": action.surface,
            "action": action.action, "record_ids": list(action.record_ids or []), "ok": action.ok, "error": action.error,
        }


SECTIONS = {
    "tags": _tags, "items": _items, "clients": _clients, "connected_apps": _connected_apps, "activity": _activity,
}
"""The archive's lists, in order (tags first: items and clients name them)."""


async def write_archive(session: AsyncSession, user_id: str, target: IO[bytes]) -> None:
    """Write the person's archive (a zip) to ``target``, one record at a time."""
    user = await users.get_user(session, user_id)
    head = {
        "format": FORMAT, "version": VERSION, "exported": _stamp(utcnow()),
        "profile": {
            "id": user.id, "email": user.email, "name": user.name, "avatar": user.avatar,
            "verified": user.verified, "created": _stamp(user.created), "updated": _stamp(user.updated),
        },
    }
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zipped, zipped.open(MEMBER, "w") as out:
        out.write(json.dumps(head, ensure_ascii=False, indent=1).removesuffix("\n}").encode())
        for section, read in SECTIONS.items():
            out.write(f',\n "{section}": ['.encode())
            separator = b"\n  "
            async for record in read(session, user_id):
                out.write(separator + json.dumps(record, ensure_ascii=False).encode())
                separator = b",\n  "
            out.write(b"\n ]")
        out.write(b"\n}\n")


# --- import --------------------------------------------------------------------------------------


_SCOPE_TOKEN = r"^[\x21\x23-\x5b\x5d-\x7e]+$"
"""RFC 6749 section 3.3's scope-token."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Profile(_Strict):
    id: str
    email: str
    name: str
    avatar: str
    verified: bool
    created: datetime
    updated: datetime


class _Tag(_Strict):
    id: str
    name: Name
    created: datetime
    updated: datetime


class _Item(_Strict):
    id: str
    name: str
    content: str
    files: list[str]
    tags: list[str]
    created: datetime
    updated: datetime


class _Client(_Strict):
    id: str
    name: str
    accessTags: list[str]  # noqa: N815 - the API's field name
    created: datetime
    updated: datetime


class _App(_Strict):
    """A consent. ``restricted``, ``profile_id`` and ``updated`` are absent from older archives
    (whose apps then see everything, as a new consent does)."""

    client_id: Annotated[str, StringConstraints(min_length=1, max_length=2048), AfterValidator(storable)]
    client_name: str
    scopes: list[Annotated[str, StringConstraints(pattern=_SCOPE_TOKEN)]]
    restricted: bool = False
    profile_id: str | None = None
    """The client profile a restricted app sees through: one of the archive's clients (None: it
    was deleted, and the app sees nothing)."""
    created: datetime
    updated: datetime | None = None
    last_used: datetime | None


class _Action(_Strict):
    client_id: str
    at: datetime
    surface: str
    action: str
    record_ids: list[str]
    ok: bool
    error: str | None


class Archive(_Strict):
    format: str
    version: int
    exported: datetime
    profile: _Profile
    tags: list[_Tag]
    items: list[_Item]
    clients: list[_Client]
    connected_apps: list[_App]
    activity: list[_Action]


def read_archive(source: IO[bytes]) -> Archive:
    """The archive in ``source``, checked; ValidationFailed naming what is wrong with it."""
    try:
        with zipfile.ZipFile(source) as archive, archive.open(MEMBER) as member:
            data = json.load(member)
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"not an Axiom export ({exc})", field="archive") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationFailed("not an Axiom export (no 'format': 'axiom-export')", field="archive")
    if data.get("version") != VERSION:
        raise ValidationFailed(f"export version {data.get('version')!r} is not {VERSION}", field="archive")
    try:
        return Archive.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(f"{where}: {first['msg']}", field="archive") from None


def _merged(tags: list[_Tag]) -> tuple[dict[str, _Tag], dict[str, str]]:
    """The tags to make, by name key, those named alike (``fold.name_key``: tag names are unique per
    person, in any case) merged into the oldest; and the tag each archived tag id became."""
    kept: dict[str, _Tag] = {}
    merged_into: dict[str, str] = {}
    for tag in sorted(tags, key=lambda t: (t.created, t.id)):
        merged_into[tag.id] = kept.setdefault(name_key(tag.name), tag).id
    return kept, merged_into


async def _import_consents(session: AsyncSession, user_id: str, archive: Archive) -> None:
    """The connected apps as they were allowed: their scopes and what they see. Client profiles keep
    their ids in an import, so a restricted app sees through the same profile here."""
    apps = archive.connected_apps
    clients = {c.id for c in archive.clients}
    seen: set[str] = set()
    for app in apps:
        if app.client_id in seen:
            raise ValidationFailed(f"connected app {app.client_id[:100]!r} is listed twice", field="archive")
        seen.add(app.client_id)
        if app.profile_id is not None and app.profile_id not in clients:
            raise ValidationFailed(f"connected app {app.client_id[:100]!r} sees through unknown client profile "
                                   f"{app.profile_id[:40]!r}", field="archive")
    if apps:
        await session.execute(insert(OAuthConsent), [
            {"id": new_id(), "user_id": user_id, "client_id": a.client_id, "scopes": " ".join(a.scopes),
             "restricted": a.restricted, "profile_id": a.profile_id, "created": a.created,
             "updated": a.updated or a.created, "last_used": a.last_used} for a in apps])


async def import_archive(session: AsyncSession, archive: Archive, password: str) -> User:
    """Recreate the archive's person with ``password``: same ids, names, content and timestamps.

    Refused (ConflictError) when the email, the account id or any record id already exists here.
    Tags named alike are merged into the oldest (``_merged``), as migration 0017 merged them.
    """
    profile = archive.profile
    if await session.scalar(select(User.id).where(User.id == profile.id)):
        raise ConflictError("this Axiom already holds the archive's account", field="archive")
    sections: tuple[tuple[Any, list[Any]], ...] = ((Tag, archive.tags), (Item, archive.items), (Client, archive.clients))
    for table, records in sections:
        wanted = [r.id for r in records]
        if wanted and await session.scalar(select(table.id).where(table.id.in_(wanted)).limit(1)):
            raise ConflictError(f"this Axiom already holds {table.__tablename__} from the archive", field="archive")
    user = await users.create_user(
        session, users.SignUp(email=profile.email, password=password, name=profile.name),
        id=profile.id, avatar=profile.avatar, verified=profile.verified, created=profile.created,
        updated=profile.updated,
    )
    tags, merged_into = _merged(archive.tags)
    if tags:
        await session.execute(insert(Tag), [
            {"id": t.id, "user_id": user.id, "name": t.name, "name_key": key, "created": t.created,
             "updated": t.updated} for key, t in tags.items()])
    for kind, records, link, column, field in (
        (Item, archive.items, item_tags, "item_id", "tags"),
        (Client, archive.clients, client_access_tags, "client_id", "accessTags"),
    ):
        for record in records:
            unknown = set(getattr(record, field)) - merged_into.keys()
            if unknown:
                raise ValidationFailed(
                    f"{kind.__tablename__} {record.id} names unknown tag ids {sorted(unknown)}", field="archive")
        if records:
            extra = ((lambda r: {"content": r.content, "files": r.files, **ITEMS.derived_from("content", r.content)})
                     if kind is Item else (lambda r: {}))
            await session.execute(insert(kind), [
                {"id": r.id, "user_id": user.id, "name": r.name, "created": r.created, "updated": r.updated, **extra(r)}
                for r in records])
            links = [{column: r.id, "tag_id": t} for r in records
                     for t in sorted({merged_into[t] for t in getattr(r, field)})]
            if links:
                await session.execute(insert(link), links)
    await _import_consents(session, user.id, archive)
    await fulltext.refresh(session, [r.id for r in archive.items])
    if archive.activity:
        await session.execute(insert(Activity), [
            {"id": new_id(), "user_id": user.id, **a.model_dump()} for a in archive.activity])
    return user
