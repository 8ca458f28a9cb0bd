"""Files through MCP with the SDK's own client, on SQLite and PostgreSQL: attaching a small file
as base64, get_user_item listing files, and files as resources (list, templates, read: text as
text, images as blobs, the rest as a link); limits, scopes and other people's files."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import BlobResourceContents, TextResourceContents

from axiom_mcp.context import AppContext
from axiom_mcp.data import files, undo
from axiom_mcp.data.files import MAX_FILES_PER_ITEM
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.mcp_server.app import create_mcp_app
from axiom_mcp.mcp_server.file_tools import MAX_TOOL_FILE
from tests.conftest import make_settings
from tests.mcp_server.clients import TRANSPORTS, connect
from tests.mcp_server.conftest import McpService
from tests.mcp_server.test_tools import failed, ok
from tests.support.factories import end_undo_windows, make_token, make_user
from tests.support.servers import free_port, running

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_attach_list_and_read_files_as_resources(mcp: McpService, transport: str) -> None:
    user = await mcp.user("Ann")
    async with connect(mcp.url, await mcp.token(user.id), transport) as client:
        item = await ok(client, "create_user_item", {"name": "Trip"})
        text = "Día 1: Lisboa\n".encode()
        note = await ok(client, "add_user_item_file", {"item_id": item["id"], "name": "plan.md", "content_base64": b64(text)})
        assert (note["name"], note["size"], note["content_type"]) == ("plan.md", len(text), "text/plain")
        assert note["sha256"] == hashlib.sha256(text).hexdigest()
        assert note["uri"] == f"axiom://items/{item['id']}/files/{note['id']}"
        pixel = await ok(client, "add_user_item_file", {"item_id": item["id"], "name": "map.png", "content_base64": b64(PNG)})
        paper = await ok(client, "add_user_item_file", {"item_id": item["id"], "name": "ticket.pdf", "content_base64": b64(PDF)})

        got = await ok(client, "get_user_item", {"id": item["id"]})
        assert [f["id"] for f in got["attachedFiles"]] == [note["id"], pixel["id"], paper["id"]]
        assert got["attachedFiles"][1] == pixel

        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["axiom://items/{item_id}/files/{file_id}"]
        listed = (await client.list_resources()).resources
        assert [r.uri for r in listed] == [paper["uri"], pixel["uri"], note["uri"]]  # newest first
        assert (listed[1].name, listed[1].mime_type, listed[1].size) == ("map.png", "image/png", len(PNG))

        [as_text] = (await client.read_resource(note["uri"])).contents
        assert isinstance(as_text, TextResourceContents) and as_text.text == text.decode()
        [as_image] = (await client.read_resource(pixel["uri"])).contents
        assert isinstance(as_image, BlobResourceContents) and as_image.mime_type == "image/png"
        assert base64.b64decode(as_image.blob) == PNG
        [as_link] = (await client.read_resource(paper["uri"])).contents
        assert isinstance(as_link, TextResourceContents)
        assert as_link.meta is not None and as_link.meta["contentType"] == "application/pdf"
        link = f"{mcp.ctx.settings.web_url}/items/{item['id']}/files/{paper['id']}"
        assert as_link.meta["link"] == link and link in as_link.text and "ticket.pdf" in as_link.text

        assert await ok(client, "delete_user_item_file", {"id": note["id"]}) == {"id": note["id"], "deleted": True}
        assert [f["id"] for f in (await ok(client, "get_user_item", {"id": item["id"]}))["attachedFiles"]] == [
            pixel["id"], paper["id"]]
        with pytest.raises(MCPError, match="No file"):
            await client.read_resource(note["uri"])


async def test_another_persons_files_and_wrong_uris_are_not_found(mcp: McpService) -> None:
    ann, bob = await mcp.user("Ann"), await mcp.user("Bob")
    async with connect(mcp.url, await mcp.token(ann.id), "streamable-2026-07-28") as client:
        item = await ok(client, "create_user_item", {"name": "Mine"})
        other = await ok(client, "create_user_item", {"name": "Other"})
        mine = await ok(client, "add_user_item_file", {"item_id": item["id"], "name": "a.txt", "content_base64": b64(b"a")})
    async with connect(mcp.url, await mcp.token(bob.id), "streamable-2026-07-28") as client:
        assert (await client.list_resources()).resources == []
        with pytest.raises(MCPError, match="No file"):
            await client.read_resource(mine["uri"])
        says = await failed(client, "add_user_item_file", {"item_id": item["id"], "name": "b.txt", "content_base64": ""})
        assert "no such item" in says
        assert "no such file" in await failed(client, "delete_user_item_file", {"id": mine["id"]})
    async with connect(mcp.url, await mcp.token(ann.id), "streamable-2026-07-28") as client:
        with pytest.raises(MCPError, match="No file"):  # the right file under the wrong item
            await client.read_resource(f"axiom://items/{other['id']}/files/{mine['id']}")
        for uri in ("axiom://items/x/files/../../etc", "file:///etc/passwd", "axiom://items/A/files/B"):
            with pytest.raises(MCPError):
                await client.read_resource(uri)
        [still] = (await client.read_resource(mine["uri"])).contents
        assert isinstance(still, TextResourceContents) and still.text == "a"


async def test_resources_need_items_read(mcp: McpService) -> None:
    user = await mcp.user("Ann")
    async with mcp.ctx.db.session() as session:
        from axiom_mcp.data import records
        from axiom_mcp.data.kinds import ITEMS
        from axiom_mcp.data.schemas import ItemCreate

        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="i"))

    async def one() -> AsyncIterator[bytes]:
        yield b"secret"

    stored = await files.add_file(mcp.ctx.db, mcp.ctx.blobs, mcp.ctx.settings, user.id, item.id, "s.txt", one())
    token = await mcp.token(user.id, ["profile:read"])
    async with connect(mcp.url, token, "streamable-2026-07-28") as client:
        with pytest.raises(MCPError, match="items:read"):
            await client.list_resources()
        with pytest.raises(MCPError, match="items:read"):
            await client.read_resource(f"axiom://items/{item.id}/files/{stored.id}")
        with pytest.raises(MCPError, match="items:write"):  # the HTTP 403 scope challenge, as for every tool
            await client.call_tool("add_user_item_file", {"item_id": item.id, "name": "b.txt", "content_base64": ""})


@pytest.mark.parametrize(("arguments", "says"), [
    ({"name": "a.txt", "content_base64": "not base64!"}, "not base64"),
    ({"name": "a.txt", "content_base64": b64(b"x" * (MAX_TOOL_FILE + 1))}, f"at most {MAX_TOOL_FILE}"),
    ({"name": "..", "content_base64": b64(b"x")}, "Invalid 'name'"),
    ({"name": "a\u202etxt.exe", "content_base64": b64(b"x")}, "Invalid 'name'"),
    ({"name": "a.txt"}, "'content_base64' is required"),
], ids=["not-base64", "too-large-for-a-call", "no-name", "bidi-name", "no-content"])
async def test_attaching_errors_say_what_was_wrong(mcp: McpService, arguments: dict[str, Any], says: str) -> None:
    user = await mcp.user("Ann")
    async with connect(mcp.url, await mcp.token(user.id), "streamable-2026-07-28") as client:
        item = await ok(client, "create_user_item", {"name": "i"})
        message = await failed(client, "add_user_item_file", {"item_id": item["id"], **arguments})
        assert says in message and "Traceback" not in message
        assert (await ok(client, "get_user_item", {"id": item["id"]}))["attachedFiles"] == []


@pytest.fixture
async def small(ctx: AppContext, tmp_path: Path) -> AsyncIterator[McpService]:
    """An MCP server on the same database with 1,000-byte files and a 2,500-byte quota."""
    port = free_port()
    settings = make_settings(ctx.settings.database_url, tmp_path, mcp_url=f"http://127.0.0.1:{port}", mcp_port=port,
                             max_file_size=1000, storage_quota=2500)
    limited = AppContext.from_settings(settings)
    try:
        async with running(create_mcp_app(limited), port) as url:
            yield McpService(url=url, ctx=limited)
    finally:
        await limited.close()


async def test_limits_are_clear_tool_errors(small: McpService) -> None:
    user = await make_user(small.ctx)
    token = await make_token(small.ctx, user.id, ["items:read", "items:write"], resource=small.ctx.settings.mcp_resource)
    async with connect(small.url, token, "streamable-2026-07-28") as client:
        item = await ok(client, "create_user_item", {"name": "i"})

        def attach(name: str, size: int) -> Any:
            return {"item_id": item["id"], "name": name, "content_base64": b64(b"x" * size)}

        assert "larger than 1000 bytes" in await failed(client, "add_user_item_file", attach("big.txt", 1001))
        await ok(client, "add_user_item_file", attach("1.txt", 1000))
        await ok(client, "add_user_item_file", attach("2.txt", 1000))
        assert "does not fit in your storage" in await failed(client, "add_user_item_file", attach("3.txt", 600))

    async def empty() -> AsyncIterator[bytes]:
        yield b""

    many = await make_user(small.ctx)
    async with small.ctx.db.session() as session:
        from axiom_mcp.data import records
        from axiom_mcp.data.kinds import ITEMS
        from axiom_mcp.data.schemas import ItemCreate

        full = await records.create_record(ITEMS, session, many.id, ItemCreate(name="full"))
    for n in range(MAX_FILES_PER_ITEM):
        await files.add_file(small.ctx.db, small.ctx.blobs, small.ctx.settings, many.id, full.id, f"{n}.txt", empty())
    token = await make_token(small.ctx, many.id, ["items:write"], resource=small.ctx.settings.mcp_resource)
    async with connect(small.url, token, "streamable-2026-07-28") as client:
        says = await failed(client, "add_user_item_file", {"item_id": full.id, "name": "100.txt", "content_base64": ""})
        assert "at most 99 files" in says


async def test_deleting_an_item_through_mcp_keeps_its_blobs_until_the_undo_window_ends(mcp: McpService) -> None:
    user = await mcp.user("Ann")
    async with connect(mcp.url, await mcp.token(user.id), "streamable-2026-07-28") as client:
        item = await ok(client, "create_user_item", {"name": "i"})
        await ok(client, "add_user_item_file", {"item_id": item["id"], "name": "a.txt", "content_base64": b64(b"a")})
        async with mcp.ctx.db.session() as session:
            [key] = await files.item_blob_keys(session, user.id, item["id"])
        await ok(client, "delete_user_item", {"id": item["id"]})
    assert b"".join([chunk async for chunk in await mcp.ctx.blobs.open(key)]) == b"a"  # the person may undo
    await end_undo_windows(mcp.ctx)
    with pytest.raises(Exception):  # noqa: B017 - BlobMissing
        await mcp.ctx.blobs.open(key)


async def test_a_model_deletes_an_item_and_the_persons_undo_gives_it_back_with_its_file(mcp: McpService) -> None:
    """The likeliest accident: the model's delete is undone on the web (data/undo.py), and the model sees it again."""
    user = await mcp.user("Ann")
    async with connect(mcp.url, await mcp.token(user.id), "streamable-2026-07-28") as client:
        item = await ok(client, "create_user_item", {"name": "Keep me", "content": "**notes**"})
        await ok(client, "add_user_item_file", {"item_id": item["id"], "name": "a.txt", "content_base64": b64(b"a")})
        await ok(client, "delete_user_item", {"id": item["id"]})
        assert "not found" in await failed(client, "get_user_item", {"id": item["id"]})
        async with mcp.ctx.db.session() as session:
            [gone] = await undo.recent(session, user.id, ITEMS, mcp.ctx.settings.undo_window)
            await undo.restore(session, user.id, gone.id, mcp.ctx.settings.undo_window,
                               storage_quota=mcp.ctx.settings.storage_quota)
        back = await ok(client, "get_user_item", {"id": item["id"]})
        assert back["name"] == "Keep me" and "**notes**" in back["content"]
        assert [f["name"] for f in back["attachedFiles"]] == ["a.txt"]


async def test_a_connection_restricted_to_a_profile_sees_only_its_items_files(mcp: McpService) -> None:
    """The per-connection view (data/access.py): the profile's access tags decide which items' files show."""
    from axiom_mcp.data import records
    from axiom_mcp.data.kinds import CLIENTS, ITEMS, TAGS
    from axiom_mcp.data.schemas import ClientCreate, ItemCreate, TagCreate
    from axiom_mcp.db.tables import OAuthConsent

    user = await mcp.user("Ann")
    app = "https://restricted.example/client.json"

    async def content(text: bytes) -> AsyncIterator[bytes]:
        yield text

    async with mcp.ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        shared = await records.create_record(ITEMS, session, user.id, ItemCreate(name="shared", tags=[work.id]))
        private = await records.create_record(ITEMS, session, user.id, ItemCreate(name="private"))
        profile = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="App", accessTags=[work.id]))
        session.add(OAuthConsent(user_id=user.id, client_id=app, scopes="items:read", restricted=True,
                                 profile_id=profile.id))
    seen = await files.add_file(mcp.ctx.db, mcp.ctx.blobs, mcp.ctx.settings, user.id, shared.id, "seen.txt",
                                content(b"seen"))
    hidden = await files.add_file(mcp.ctx.db, mcp.ctx.blobs, mcp.ctx.settings, user.id, private.id, "hidden.txt",
                                  content(b"hidden"))
    token = await mcp.token(user.id, ["items:read"], client_id=app)
    async with connect(mcp.url, token, "streamable-2026-07-28") as client:
        assert [r.name for r in (await client.list_resources()).resources] == ["seen.txt"]
        [text] = (await client.read_resource(f"axiom://items/{shared.id}/files/{seen.id}")).contents
        assert isinstance(text, TextResourceContents) and text.text == "seen"
        with pytest.raises(MCPError, match="No file"):
            await client.read_resource(f"axiom://items/{private.id}/files/{hidden.id}")
    everything = await mcp.token(user.id, ["items:read"])  # the same person through an unrestricted connection
    async with connect(mcp.url, everything, "streamable-2026-07-28") as client:
        assert {r.name for r in (await client.list_resources()).resources} == {"seen.txt", "hidden.txt"}
