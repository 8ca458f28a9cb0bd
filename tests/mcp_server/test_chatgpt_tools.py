"""ChatGPT's ``search`` and ``fetch``, called by the real SDK client over every transport, in the
exact shapes ChatGPT's connectors and deep research read."""

from __future__ import annotations

import json

import pytest

from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS, TAGS
from axiom_mcp.data.schemas import ItemCreate, TagCreate
from tests.mcp_server.clients import TRANSPORTS, connect
from tests.mcp_server.conftest import McpService


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_search_then_fetch_in_chatgpts_shapes(mcp: McpService, transport: str) -> None:
    user = await mcp.user()
    async with mcp.ctx.db.session() as session:
        trips = await records.create_record(TAGS, session, user.id, TagCreate(name="trips"))
        plan = await records.create_record(ITEMS, session, user.id, ItemCreate(
            name="Kyoto plan", content="<h2>Day 1</h2><p>Visit <strong>Fushimi Inari</strong>.</p>", tags=[trips.id]))
        await records.create_record(ITEMS, session, user.id, ItemCreate(name="Groceries", content="<p>rice</p>"))
    token = await mcp.token(user.id, ["items:read"])
    async with connect(mcp.url, token, transport) as client:
        found = await client.call_tool("search", {"query": "kyoto"})
        assert not found.is_error
        assert json.loads(found.content[0].text) == found.structured_content  # type: ignore[union-attr]
        assert found.structured_content == {"results": [
            {"id": plan.id, "title": "Kyoto plan", "url": f"{mcp.ctx.settings.web_url}/items/{plan.id}"}]}
        # The same full-text search as get_user_items: a tag's name, accents aside (issue 14).
        by_tag = (await client.call_tool("search", {"query": "TRÏPS"})).structured_content
        assert by_tag is not None and [r["id"] for r in by_tag["results"]] == [plan.id]

        fetched = await client.call_tool("fetch", {"id": plan.id})
        assert not fetched.is_error
        document = fetched.structured_content
        assert document is not None and json.loads(fetched.content[0].text) == document  # type: ignore[union-attr]
        assert set(document) == {"id", "title", "text", "url", "metadata"}
        assert document["title"] == "Kyoto plan" and document["url"].endswith(f"/items/{plan.id}")
        assert "## Day 1" in document["text"] and "**Fushimi Inari**" in document["text"]
        assert document["metadata"]["tags"] == ["trips"]

        missing = await client.call_tool("fetch", {"id": "doesnotexist123"})
        assert missing.is_error and "not found" in missing.content[0].text  # type: ignore[union-attr]


async def test_search_and_fetch_need_items_read_and_see_only_the_callers_items(mcp: McpService) -> None:
    owner, other = await mcp.user(), await mcp.user("Other")
    async with mcp.ctx.db.session() as session:
        mine = await records.create_record(ITEMS, session, owner.id, ItemCreate(name="Secret recipe"))
    async with connect(mcp.url, await mcp.token(other.id, ["items:read"]), "streamable-2026-07-28") as client:
        assert (await client.call_tool("search", {"query": "secret"})).structured_content == {"results": []}
        assert (await client.call_tool("fetch", {"id": mine.id})).is_error
