"""Export and import: a person's archive recreates everything it holds, on either database."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import archive, users
from axiom_mcp.data.activity import Action, ActivityLog
from axiom_mcp.data.schemas import ClientCreate, ItemCreate, TagCreate
from axiom_mcp.db.tables import OAuthConsent
from axiom_mcp.errors import ConflictError, ValidationFailed
from tests.support.factories import PASSWORD, TestUser, make_user
from axiom_mcp.data import records
from axiom_mcp.data.kinds import CLIENTS, ITEMS, TAGS
from axiom_mcp.data.schemas import PageQuery

APP = "https://claude.ai/oauth/mcp-oauth-client-metadata"
OTHER_APP = "dcr-client-0123456789"


async def _fill(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        home = await records.create_record(TAGS, session, user.id, TagCreate(name="Émoji 🏠"))
        for n in range(3):
            await records.create_record(ITEMS, session, user.id, ItemCreate(
                name=f"Note {n}", content=f"<p>Line {n} with “quotes”, ünïcode and \\n</p>",
                tags=[work.id, home.id][: n % 3], files=["a.pdf"] if n == 1 else []))
        agent = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="Work agent", accessTags=[work.id]))
        # One app sees only the items of the client profile "Work agent"; the other sees everything.
        session.add(OAuthConsent(user_id=user.id, client_id=APP, scopes="items:read profile:read",
                                 restricted=True, profile_id=agent.id))
        session.add(OAuthConsent(user_id=user.id, client_id=OTHER_APP, scopes="tags:read",
                                 created=datetime(2026, 10, 1, tzinfo=UTC), updated=datetime(2026, 10, 2, tzinfo=UTC)))
    log = ActivityLog(ctx.db, delay=60)
    log.record(Action(user.id, APP, "mcp", "get_user_item", ("abc",), ok=False, error="not_found",
                      at=datetime(2026, 11, 2, 3, 4, 5, 678901, tzinfo=UTC)))
    await log.flush()


async def _export(ctx: AppContext, user_id: str) -> dict:
    buffer = io.BytesIO()
    async with ctx.db.session() as session:
        await archive.write_archive(session, user_id, buffer)
    with zipfile.ZipFile(buffer) as zipped:
        return json.loads(zipped.read(archive.MEMBER))


async def test_an_export_holds_everything_and_imports_back_as_it_was(ctx: AppContext) -> None:
    user = await make_user(ctx, name="Ann")
    await _fill(ctx, user)
    exported = await _export(ctx, user.id)
    assert exported["format"] == "axiom-export" and exported["profile"]["email"] == user.email
    assert [len(exported[s]) for s in archive.SECTIONS] == [2, 3, 1, 2, 1]
    other, app = exported["connected_apps"]
    assert (app["client_id"], app["restricted"], app["profile_id"]) == (APP, True, exported["clients"][0]["id"])
    assert (other["client_id"], other["restricted"], other["profile_id"]) == (OTHER_APP, False, None)
    assert "password" not in json.dumps(exported["profile"])

    buffer = io.BytesIO()
    async with ctx.db.session() as session:
        await archive.write_archive(session, user.id, buffer)
        await users.delete_user(session, user.email)
    buffer.seek(0)
    async with ctx.db.session() as session:
        imported = await archive.import_archive(session, archive.read_archive(buffer), "a new long password")
    assert imported.id == user.id
    again = await _export(ctx, user.id)
    for data in (exported, again):
        data.pop("exported")
    assert again == exported  # the connected apps too: what each may do and see (not their tokens)
    async with ctx.db.session() as session:
        assert (await users.authenticate(session, user.email, "a new long password")).id == user.id
    # The imported items are searchable by their words and their tags' (data/fulltext.py).
    found = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(q="unicode emoji"))
    assert [i.name for i in found.items] == ["Note 2"]


def _zipped(data: dict) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr(archive.MEMBER, json.dumps(data))
    buffer.seek(0)
    return buffer


async def test_tags_named_alike_in_an_archive_are_merged_into_the_oldest(ctx: AppContext) -> None:
    """An archive from before tag names were unique (or written by hand) may hold "work" and
    "WORK": the import keeps the oldest and gives its items and clients every tag they had, once."""
    user = await make_user(ctx, name="Ann")
    await _fill(ctx, user)
    exported = await _export(ctx, user.id)
    work, emoji = exported["tags"]
    later = {"id": "work0000000late", "name": " WORK ", "created": "2030-01-01T00:00:00+00:00",
             "updated": "2030-01-01T00:00:00+00:00"}
    other = {**later, "id": "emoji0000000odd", "name": "éMOJI 🏠"}
    exported["tags"] = [later, other, work, emoji]
    first, second, third = exported["items"]
    first["tags"], second["tags"], third["tags"] = [later["id"]], [work["id"], later["id"]], [other["id"], work["id"]]
    exported["clients"][0]["accessTags"] = [later["id"], work["id"], other["id"]]
    async with ctx.db.session() as session:
        await users.delete_user(session, user.email)

    async with ctx.db.session() as session:
        await archive.import_archive(session, archive.read_archive(_zipped(exported)), PASSWORD)

    again = await _export(ctx, user.id)
    assert again["tags"] == [work, emoji]
    assert [i["tags"] for i in again["items"]] == [[work["id"]], [work["id"]], sorted([work["id"], emoji["id"]])]
    assert again["clients"][0]["accessTags"] == sorted([work["id"], emoji["id"]])


async def test_an_archive_from_before_profiles_imports_its_apps_as_seeing_everything(ctx: AppContext) -> None:
    user = await make_user(ctx)
    await _fill(ctx, user)
    exported = await _export(ctx, user.id)
    for app in exported["connected_apps"]:
        for newer in ("restricted", "profile_id", "updated"):
            del app[newer]
    async with ctx.db.session() as session:
        await users.delete_user(session, user.email)
    async with ctx.db.session() as session:
        await archive.import_archive(session, archive.read_archive(_zipped(exported)), PASSWORD)
    apps = (await _export(ctx, user.id))["connected_apps"]
    assert [(a["restricted"], a["profile_id"], a["updated"] == a["created"]) for a in apps] == [(False, None, True)] * 2


@pytest.mark.parametrize("change", ["unknown-profile", "listed-twice", "bad-scope", "nul-in-client-id"])
async def test_an_archive_with_impossible_apps_is_refused_naming_it(ctx: AppContext, change: str) -> None:
    user = await make_user(ctx)
    await _fill(ctx, user)
    exported = await _export(ctx, user.id)
    apps = exported["connected_apps"]
    if change == "unknown-profile":
        apps[1]["profile_id"] = "nosuchclient000"
    elif change == "listed-twice":
        apps[0]["client_id"] = apps[1]["client_id"]
    elif change == "bad-scope":
        apps[0]["scopes"] = ["items:read", "two words"]
    else:
        apps[0]["client_id"] = "a\x00b"
    async with ctx.db.session() as session:
        await users.delete_user(session, user.email)
    with pytest.raises(ValidationFailed) as refused:
        async with ctx.db.session() as session:
            await archive.import_archive(session, archive.read_archive(_zipped(exported)), PASSWORD)
    assert refused.value.field == "archive" and "connected" in refused.value.message
    async with ctx.db.session() as session:
        assert await users.get_user_by_email(session, user.email) is None


async def test_an_empty_account_exports_every_section_empty(ctx: AppContext) -> None:
    exported = await _export(ctx, (await make_user(ctx)).id)
    assert all(exported[s] == [] for s in archive.SECTIONS)


async def test_an_import_never_overwrites_what_is_here(ctx: AppContext, user: TestUser) -> None:
    await _fill(ctx, user)
    buffer = io.BytesIO()
    async with ctx.db.session() as session:
        await archive.write_archive(session, user.id, buffer)
    data = archive.read_archive(io.BytesIO(buffer.getvalue()))
    with pytest.raises(ConflictError):  # the same email
        async with ctx.db.session() as session:
            await archive.import_archive(session, data, PASSWORD)
    data.profile.email = "someone-new@example.com"
    with pytest.raises(ConflictError):  # the same account and record ids
        async with ctx.db.session() as session:
            await archive.import_archive(session, data, PASSWORD)
    async with ctx.db.session() as session:
        assert await users.get_user_by_email(session, "someone-new@example.com") is None  # all or nothing


@pytest.mark.parametrize(
    "content",
    [b"not a zip", b"", pytest.param(None, id="zip-without-the-json"), pytest.param(b"{}", id="not-an-export")],
)
def test_a_broken_archive_is_refused_naming_the_problem(content: bytes | None) -> None:
    buffer = io.BytesIO()
    if content in (None, b"{}"):
        with zipfile.ZipFile(buffer, "w") as zipped:
            zipped.writestr("other.json" if content is None else archive.MEMBER, content or b"{}")
    else:
        buffer.write(content)
    buffer.seek(0)
    with pytest.raises(ValidationFailed) as failure:
        archive.read_archive(buffer)
    assert failure.value.field == "archive" and "Axiom export" in failure.value.message
