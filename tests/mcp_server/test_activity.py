"""Every tool call of a real SDK client is recorded as its app's activity, on every transport and on
the lean path: the tool, the record id it named or made, the outcome; never content or arguments."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from axiom_mcp.db.tables import Activity
from tests.mcp_server.clients import TRANSPORTS, connect
from tests.mcp_server.conftest import McpService

APP = "https://claude.ai/oauth/mcp-oauth-client-metadata"


async def _actions(mcp: McpService, user_id: str) -> list[tuple[str, list[str], bool, str | None]]:
    await mcp.ctx.activity.flush()
    async with mcp.ctx.db.session() as session:
        rows = await session.scalars(select(Activity).where(Activity.user_id == user_id).order_by(Activity.at))
        return [(a.action, a.record_ids, a.ok, a.error) for a in rows if a.client_id == APP]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_each_call_is_recorded_with_its_ids_and_outcome(mcp: McpService, transport: str) -> None:
    user = await mcp.user()
    token = await mcp.token(user.id, client_id=APP)
    async with connect(mcp.url, token, transport) as client:
        made = await client.call_tool("create_user_item", {"name": "Diary", "content": "my secret diary"})
        item_id = made.structured_content["id"]  # type: ignore[index]
        await client.call_tool("get_user_item", {"id": item_id})
        await client.call_tool("get_user_items", {"search": "secret words"})
        await client.call_tool("get_user_item", {"id": "doesnotexist123"})
        await client.call_tool("get_user_items", {"serach": "typo"})
        await client.call_tool("delete_user_item", {"id": item_id})
    assert await _actions(mcp, user.id) == [
        ("create_user_item", [item_id], True, None),
        ("get_user_item", [item_id], True, None),
        ("get_user_items", [], True, None),
        ("get_user_item", ["doesnotexist123"], False, "not_found"),
        ("get_user_items", [], False, "invalid_arguments"),
        ("delete_user_item", [item_id], True, None),
    ]
    async with mcp.ctx.db.session() as session:
        stored = " ".join(str(v) for row in await session.execute(select(Activity.__table__)) for v in row)
    assert "Diary" not in stored and "secret" not in stored and "typo" not in stored
