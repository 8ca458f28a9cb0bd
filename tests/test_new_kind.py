"""A kind of record is one declaration plus its table: a throwaway "notes" kind, declared here, is
served by the REST API, the MCP tools and the web pages with nothing else written for it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.data.kinds import Kind, KindField, register, unregister
from axiom_mcp.data.schemas import Name, PageQuery, Record, _Input, _Patch
from axiom_mcp.db.tables import NAMING, UTCDateTime
from axiom_mcp.ids import ID_LENGTH, new_id, utcnow
from axiom_mcp.data import records
from axiom_mcp.mcp_server.app import create_mcp_app
from axiom_mcp.web.app import create_web_app
from tests.conftest import make_settings
from tests.mcp_server.clients import STREAMABLE, connect
from tests.support.factories import TestUser, make_token
from tests.support.servers import free_port, running
from tests.web.helpers import own_address, sign_in_directly, submit


class NotesBase(DeclarativeBase):
    """The test's own metadata: the app's schema (and its migrations) never learn of notes."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class Note(NotesBase):
    """What the kind's migration would create."""

    __tablename__ = "notes"
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    name: Mapped[str] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class NoteOut(Record):
    name: str


class NoteCreate(_Input):
    name: Name


class NoteUpdate(_Patch):
    name: Name | None = None


NOTES = Kind(
    one="note",
    title="Notes",
    table=Note,
    out=NoteOut,
    create=NoteCreate,
    update=NoteUpdate,
    fields=(KindField("name", "Name", "The note's name.", "A new name; omit to keep it."),),
    search=("name",),
    searched="name",
    create_title="Create a note",
    create_about="Create a note for the user.",
    update_title="Change a note",
    update_about="Change one of the user's notes by id.",
    search_hint="Search names",
    empty="No notes yet.",
)


@pytest.fixture
async def notes(ctx: AppContext) -> AsyncIterator[Kind]:
    """The kind registered and its table made (as its migration would), both undone afterwards."""
    async with ctx.db.engine.begin() as conn:
        await conn.run_sync(NotesBase.metadata.create_all)
    register(NOTES)
    try:
        yield NOTES
    finally:
        unregister(NOTES)
        async with ctx.db.engine.begin() as conn:
            await conn.run_sync(NotesBase.metadata.drop_all)


async def test_the_rest_api_serves_a_new_kind(ctx: AppContext, notes: Kind, user: TestUser) -> None:
    token = await make_token(ctx, user.id, ["notes:read", "notes:write"])
    transport = httpx.ASGITransport(app=create_auth_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url,
                                 headers={"Authorization": f"Bearer {token}"}) as api:
        made = await api.post("/api/v1/user/notes", json={"name": "first"})
        assert made.status_code == 201, made.text
        note = made.json()
        assert list(note) == ["id", "user", "created", "updated", "name"] and note["user"] == user.id
        listed = (await api.get("/api/v1/user/notes", params={"q": "FIR"})).json()
        assert (listed["totalItems"], [n["id"] for n in listed["items"]]) == (1, [note["id"]])
        assert (await api.get(f"/api/v1/user/notes/{note['id']}")).json() == note
        changed = await api.patch(f"/api/v1/user/notes/{note['id']}", json={"name": "renamed"})
        assert changed.json()["name"] == "renamed"
        assert (await api.patch(f"/api/v1/user/notes/{note['id']}", json={"name": ""})).status_code == 400
        assert (await api.delete(f"/api/v1/user/notes/{note['id']}")).status_code == 204
        gone = await api.get(f"/api/v1/user/notes/{note['id']}")
        assert gone.status_code == 404 and "note" in gone.text
        # Its scopes guard it: a token for items only may not read notes.
        items_only = await make_token(ctx, user.id, ["items:read"])
        refused = await api.get("/api/v1/user/notes", headers={"Authorization": f"Bearer {items_only}"})
        assert refused.status_code == 403


@pytest.mark.parametrize("transport", STREAMABLE)
async def test_the_mcp_tools_serve_a_new_kind(ctx: AppContext, notes: Kind, user: TestUser, transport: str) -> None:
    port = free_port()
    settings = make_settings(ctx.settings.database_url, ctx.settings.data_dir, mcp_url=f"http://127.0.0.1:{port}",
                             mcp_port=port)
    service = AppContext.from_settings(settings)
    token = await make_token(service, user.id, ["notes:read", "notes:write"], resource=settings.mcp_resource)
    try:
        async with running(create_mcp_app(service), port) as url, connect(url, token, transport) as client:
            names = [tool.name for tool in (await client.list_tools()).tools]
            five = ["get_user_notes", "get_user_note", "create_user_note", "update_user_note", "delete_user_note"]
            start = names.index("get_user_notes")
            assert names[start:start + 5] == five and names[-2:] == ["search", "fetch"]  # after the other kinds

            async def call(tool: str, **arguments: object) -> dict:
                result = await client.call_tool(tool, arguments)
                assert not result.is_error, result.content
                assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
                return result.structured_content  # type: ignore[return-value]

            note = await call("create_user_note", name="from a model")
            assert (await call("get_user_notes", search="MODEL"))["items"] == [note]
            assert await call("get_user_note", id=note["id"]) == note
            assert (await call("update_user_note", id=note["id"], name="changed"))["name"] == "changed"
            assert await call("delete_user_note", id=note["id"]) == {"id": note["id"], "deleted": True}
            missing = await client.call_tool("get_user_note", {"id": note["id"]})
            assert missing.is_error and "no such note among yours" in missing.content[0].text  # type: ignore[union-attr]
            nothing = await client.call_tool("update_user_note", {"id": note["id"]})
            assert nothing.content[0].text.endswith("Nothing to change: give 'name'.")  # type: ignore[union-attr]
    finally:
        await service.close()


async def test_the_web_pages_serve_a_new_kind(ctx: AppContext, notes: Kind, user: TestUser) -> None:
    transport = httpx.ASGITransport(app=create_web_app(ctx), client=(own_address(), 50000))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.web_url) as web:
        await sign_in_directly(ctx, web, user.id)
        empty = await web.get("/notes")
        assert empty.status_code == 200 and "No notes yet." in empty.text
        made = await submit(web, "/notes/new", name="Shopping")
        assert made.status_code == 303 and "/notes?notice=created&named=Shopping&sig=" in made.headers["location"]
        listed = await web.get("/notes", params={"q": "shop"})
        assert "Shopping" in listed.text and "1 note" in listed.text
        note_id = (await notes_of(ctx, user.id))[0]
        edited = await submit(web, f"/notes/{note_id}", name="Groceries")
        assert edited.status_code == 303
        assert "Groceries" in (await web.get(f"/notes/{note_id}")).text
        assert (await submit(web, f"/notes/{note_id}/delete")).status_code == 303
        assert await notes_of(ctx, user.id) == []
        assert (await web.get(f"/notes/{note_id}")).status_code == 404


async def notes_of(ctx: AppContext, user_id: str) -> list[str]:
    return [note.id for note in (await records.list_records(NOTES, ctx.db, user_id, PageQuery())).items]
