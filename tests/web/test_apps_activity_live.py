"""What a real SDK client session did appears on the person's Connected apps page, without content."""

from __future__ import annotations

import httpx

from axiom_mcp.context import AppContext
from axiom_mcp.data import consents, records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import ItemCreate
from tests.mcp_server.clients import connect
from tests.mcp_server.conftest import McpService, mcp  # noqa: F401 - the MCP server fixture, here too
from tests.support.factories import TestUser

APP = "https://claude.ai/oauth/mcp-oauth-client-metadata"


async def test_a_real_sdk_sessions_calls_show_on_connected_apps(
    ctx: AppContext, mcp: McpService, signed_in: httpx.AsyncClient, user: TestUser,  # noqa: F811 - the fixture
) -> None:
    async with ctx.db.session() as session:
        await consents.add_consent(session, user.id, APP, scopes="items:read items:write", restricted=False,
                                   profile_id=None)
        diary = await records.create_record(ITEMS, session, user.id, ItemCreate(name="Diary", content="my secret"))
    token = await mcp.token(user.id, ["items:read", "items:write"], client_id=APP)
    async with connect(mcp.url, token, "streamable-2025-11-25") as client:
        await client.call_tool("get_user_items", {"search": "secret"})
        await client.call_tool("get_user_item", {"id": diary.id})
        await client.call_tool("get_user_item", {"id": "doesnotexist123"})
    await mcp.ctx.activity.flush()

    page = await signed_in.get("/apps")
    assert page.status_code == 200
    assert "Calls by" in page.text and "3 calls in 30 days, 1 failed." in page.text
    assert "get_user_items" in page.text and diary.id in page.text and "Failed: not_found" in page.text
    assert "my secret" not in page.text and "Diary" not in page.text  # no content, no search text


async def test_a_profile_chosen_on_connected_apps_reaches_a_connected_sdk_clients_next_call(
    ctx: AppContext, mcp: McpService, signed_in: httpx.AsyncClient, user: TestUser,  # noqa: F811 - the fixture
) -> None:
    """The MCP server here is another instance on the same database (its own caches, a 1-second bound)."""
    import asyncio

    from axiom_mcp.data.kinds import TAGS
    from axiom_mcp.data.schemas import TagCreate
    from tests.web.helpers import csrf_of

    async with ctx.db.session() as session:
        await consents.add_consent(session, user.id, APP, scopes="items:read", restricted=False, profile_id=None)
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        await records.create_record(ITEMS, session, user.id, ItemCreate(name="Plan", tags=[work.id]))
        await records.create_record(ITEMS, session, user.id, ItemCreate(name="Diary"))
    token = await mcp.token(user.id, ["items:read"], client_id=APP)
    async with connect(mcp.url, token, "streamable-2025-11-25") as client:
        before = await client.call_tool("get_user_items", {})
        assert {i["name"] for i in before.structured_content["items"]} == {"Plan", "Diary"}  # type: ignore[index]

        page = await signed_in.get("/apps")
        changed = await signed_in.post("/apps/change", data={
            "csrf_token": csrf_of(page), "client_id": APP, "scope": ["items:read"], "sees": "new", "tag": [work.id]})
        assert changed.status_code == 303, changed.text
        await asyncio.sleep(1.2)  # the other instance's bound (tests/mcp_server/conftest.TOKEN_CACHE_SECONDS)

        after = await client.call_tool("get_user_items", {})  # the same session, no new consent
        assert [i["name"] for i in after.structured_content["items"]] == ["Plan"]  # type: ignore[index]
