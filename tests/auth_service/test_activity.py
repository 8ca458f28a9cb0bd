"""REST calls made with an OAuth app's token are recorded as that app's activity (never content);
the person's own API-login tokens are not an app and are not recorded."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from axiom_mcp.context import AppContext
from axiom_mcp.db.tables import Activity
from tests.support.factories import TestUser, make_token

APP = "https://research.example/client.json"
SCOPES = ["items:read", "items:write", "tags:read"]


async def _actions(ctx: AppContext, user_id: str) -> list[Activity]:
    await ctx.activity.flush()
    async with ctx.db.session() as session:
        rows = await session.scalars(select(Activity).where(Activity.user_id == user_id).order_by(Activity.at))
        return list(rows.all())


async def test_an_apps_rest_calls_are_recorded_with_route_ids_and_outcome(
    ctx: AppContext, api: httpx.AsyncClient, user: TestUser
) -> None:
    headers = {"Authorization": f"Bearer {await make_token(ctx, user.id, SCOPES, client_id=APP)}"}
    created = await api.post("/api/v1/user/items", headers=headers, json={"name": "Secret plan", "content": "the secret"})
    assert created.status_code == 201
    item_id = created.json()["id"]
    assert (await api.get(f"/api/v1/user/items/{item_id}", headers=headers)).status_code == 200
    assert (await api.get("/api/v1/user/items/doesnotexist", headers=headers)).status_code == 404
    assert (await api.get("/api/v1/user/clients", headers=headers)).status_code == 403  # no clients:read
    assert (await api.get("/api/v1/user/items", params={"q": "secret words"}, headers=headers)).status_code == 200

    actions = [(a.client_id, a.surface, a.action, a.record_ids, a.ok, a.error) for a in await _actions(ctx, user.id)]
    assert actions == [
        (APP, "rest", "POST /api/v1/user/items", [], True, None),
        (APP, "rest", "GET /api/v1/user/items/{record_id}", [item_id], True, None),
        (APP, "rest", "GET /api/v1/user/items/{record_id}", ["doesnotexist"], False, "not_found"),
        (APP, "rest", "GET /api/v1/user/clients", [], False, "insufficient_scope"),
        (APP, "rest", "GET /api/v1/user/items", [], True, None),
    ]
    async with ctx.db.session() as session:
        stored = " ".join(str(v) for row in await session.execute(select(Activity.__table__)) for v in row)
    assert "Secret plan" not in stored and "secret" not in stored.lower()  # no content, no query text


async def test_the_persons_own_api_tokens_and_anonymous_calls_are_not_recorded(
    ctx: AppContext, api: httpx.AsyncClient, user: TestUser
) -> None:
    login = await api.post("/api/v1/auth/login", json={"email": user.email, "password": user.password})
    own = {"Authorization": f"Bearer {login.json()['token']}"}
    assert (await api.get("/api/v1/user/items", headers=own)).status_code == 200
    assert (await api.get("/api/v1/user/items")).status_code == 401
    assert await _actions(ctx, user.id) == []
