"""Item content through MCP (issue 14 item 1), with the SDK's client: Markdown written and read by
default, HTML on request, plain text in; always stored as sanitized HTML. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import ItemCreate
from tests.data.test_content import XSS, dangers
from tests.mcp_server.clients import STREAMABLE, connect
from tests.mcp_server.conftest import McpService
from tests.mcp_server.test_tools import failed, ok

NOTE = "# Trip\n\nPack **socks** and *maps*.\n\n- passport\n- tickets\n\n[Map](https://maps.example/)\n\n`x = 1`"
NOTE_HTML = ('<h1>Trip</h1>\n<p>Pack <strong>socks</strong> and <em>maps</em>.</p>\n<ul>\n<li>passport</li>\n'
             '<li>tickets</li>\n</ul>\n<p><a href="https://maps.example/" rel="noopener noreferrer nofollow">Map</a>'
             '</p>\n<p><code>x = 1</code></p>')


async def stored(mcp: McpService, user_id: str, item_id: str) -> str:
    async with mcp.ctx.db.session() as session:
        return str((await records.get_record(ITEMS, session, user_id, item_id)).content)


@pytest.mark.parametrize("transport", STREAMABLE)
async def test_markdown_round_trip(mcp: McpService, transport: str) -> None:
    user = await mcp.user()
    async with connect(mcp.url, await mcp.token(user.id), transport) as client:
        item = await ok(client, "create_user_item", {"name": "Trip", "content": NOTE})
        assert item["content"] == NOTE  # Markdown in, Markdown back
        assert item["excerpt"] == "Trip Pack socks and maps. passport tickets Map x = 1"
        assert await stored(mcp, user.id, item["id"]) == NOTE_HTML
        assert (await ok(client, "get_user_item", {"id": item["id"]}))["content"] == NOTE
        assert (await ok(client, "get_user_item", {"id": item["id"], "format": "html"}))["content"] == NOTE_HTML
        [listed] = (await ok(client, "get_user_items", {}))["items"]
        assert listed["content"] == NOTE
        [listed] = (await ok(client, "get_user_items", {"format": "html"}))["items"]
        assert listed["content"] == NOTE_HTML

        # Markdown read back and written again changes nothing.
        again = await ok(client, "update_user_item", {"id": item["id"], "content": listed and NOTE})
        assert again["content"] == NOTE and await stored(mcp, user.id, item["id"]) == NOTE_HTML


@pytest.mark.parametrize("transport", STREAMABLE)
async def test_html_round_trip_and_text(mcp: McpService, transport: str) -> None:
    user = await mcp.user()
    html = '<h2>Plan</h2><p>Hello <strong>bold</strong> <a href="https://example.com/">link</a></p><ol><li>one</li></ol>'
    kept = html.replace('">link', '" rel="noopener noreferrer nofollow">link')
    async with connect(mcp.url, await mcp.token(user.id), transport) as client:
        item = await ok(client, "create_user_item", {"name": "Plan", "content": html, "format": "html"})
        assert item["content"] == kept  # written as HTML: answered in HTML
        assert (await ok(client, "get_user_item", {"id": item["id"], "format": "html"}))["content"] == kept
        markdown = (await ok(client, "get_user_item", {"id": item["id"]}))["content"]
        assert markdown == "## Plan\n\nHello **bold** [link](https://example.com/)\n\n1. one"

        changed = await ok(client, "update_user_item", {"id": item["id"], "content": "1 < 2\n\n*not* markdown",
                                                        "format": "text"})
        assert changed["content"] == "1 < 2\n\n\\*not\\* markdown"  # read back as Markdown: the stars are text
        assert await stored(mcp, user.id, item["id"]) == "<p>1 &lt; 2</p><p>*not* markdown</p>"

        assert "'format'" in await failed(client, "get_user_item", {"id": item["id"], "format": "rtf"})
        assert "'format'" in await failed(client, "create_user_item", {"name": "x", "format": "docx"})


@pytest.mark.parametrize("transport", STREAMABLE)
async def test_content_from_before_rich_text_reads_well(mcp: McpService, transport: str) -> None:
    """Content stored before this (plain text, or HTML nobody cleaned) is read as paragraphs or sanitized."""
    user = await mcp.user()
    async with mcp.ctx.db.session() as session:
        old = await records.create_record(ITEMS, session, user.id, ItemCreate(name="old", content="x"))
        row = await session.get(ITEMS.table, old.id)
        row.content = "line one\nline two\n\nsecond: 1 < 2 & \"more\""
        raw = await records.create_record(ITEMS, session, user.id, ItemCreate(name="raw", content="x"))
        (await session.get(ITEMS.table, raw.id)).content = '<p onclick="alert(1)">hi</p><script>alert(2)</script>'
    async with connect(mcp.url, await mcp.token(user.id), transport) as client:
        got = await ok(client, "get_user_item", {"id": old.id, "format": "html"})
        assert got["content"] == '<p>line one<br>line two</p><p>second: 1 &lt; 2 &amp; "more"</p>'
        assert (await ok(client, "get_user_item", {"id": raw.id, "format": "html"}))["content"] == "<p>hi</p>"
        assert (await ok(client, "get_user_item", {"id": raw.id}))["content"] == "hi"


@pytest.mark.parametrize("fmt", ["markdown", "html", "text"])
async def test_no_payload_survives(mcp: McpService, fmt: str) -> None:
    user = await mcp.user()
    async with connect(mcp.url, await mcp.token(user.id), STREAMABLE[0]) as client:
        for payload in XSS:
            item = await ok(client, "create_user_item", {"name": "x", "content": payload, "format": fmt})
            assert dangers(await stored(mcp, user.id, item["id"])) == [], payload
            html = (await ok(client, "get_user_item", {"id": item["id"], "format": "html"}))["content"]
            assert dangers(html) == [], payload
