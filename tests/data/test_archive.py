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


async def _fill(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        home = await records.create_record(TAGS, session, user.id, TagCreate(name="Émoji 🏠"))
        for n in range(3):
            await records.create_record(ITEMS, session, user.id, ItemCreate(
                name=f"Note {n}", content=f"<p>Line {n} with “quotes”, ünïcode and \\n</p>",
                tags=[work.id, home.id][: n % 3], files=["a.pdf"] if n == 1 else []))
        await records.create_record(CLIENTS, session, user.id, ClientCreate(name="Work agent", accessTags=[work.id]))
        session.add(OAuthConsent(user_id=user.id, client_id=APP, scopes="items:read profile:read"))
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
    assert [len(exported[s]) for s in archive.SECTIONS] == [2, 3, 1, 1, 1]
    assert exported["connected_apps"][0]["client_id"] == APP
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
        data.pop("connected_apps")  # apps reconnect: consents and tokens are never carried
    assert again == exported
    async with ctx.db.session() as session:
        assert (await users.authenticate(session, user.email, "a new long password")).id == user.id
    # The imported items are searchable by their words and their tags' (data/fulltext.py).
    found = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(q="unicode emoji"))
    assert [i.name for i in found.items] == ["Note 2"]


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
