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
