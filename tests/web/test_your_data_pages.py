"""Your data: the account page downloads the archive, and deletes the account only with the password."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
from sqlalchemy import func, select

from axiom_mcp.context import AppContext
from axiom_mcp.data import archive
from axiom_mcp.db.tables import Item, OAuthAccessToken, User, WebSession
from tests.support.factories import TestUser
from tests.web.helpers import submit


async def test_download_my_data_is_the_persons_archive(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser, api: httpx.AsyncClient
) -> None:
    created = await api.post("/api/v1/user/items", headers={"Authorization": f"Bearer {user.token}"},
                             json={"name": "Diary", "content": "dear diary"})
    assert created.status_code == 201
    response = await submit(signed_in, "/account", "/account/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith('attachment; filename="axiom-export-')
    with zipfile.ZipFile(io.BytesIO(response.content)) as zipped:
        data = json.loads(zipped.read(archive.MEMBER))
    assert data["profile"]["email"] == user.email
    assert [(i["name"], i["content"]) for i in data["items"]] == [("Diary", "dear diary")]


async def test_export_needs_the_csrf_token(signed_in: httpx.AsyncClient) -> None:
    response = await signed_in.post("/account/export")
    assert response.status_code == 403


async def test_delete_account_needs_the_password_then_removes_everything_at_once(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser, api: httpx.AsyncClient
) -> None:
    bearer = {"Authorization": f"Bearer {user.token}"}
    assert (await api.post("/api/v1/user/items", headers=bearer, json={"name": "Gone soon"})).status_code == 201
    assert await ctx.tokens.verify(user.token) is not None  # cached now

    wrong = await submit(signed_in, "/account/delete", password="not my password")
    assert wrong.status_code == 400 and "Nothing was deleted" in wrong.text
    async with ctx.db.session() as session:
        assert await session.get(User, user.id) is not None

    done = await submit(signed_in, "/account/delete", password=user.password)
    assert done.status_code == 303 and done.headers["location"] == "/auth?notice=account_deleted"
    assert await ctx.tokens.verify(user.token) is None  # at once, not after the cache's seconds
    assert (await api.get("/api/v1/user/items", headers=bearer)).status_code == 401
    async with ctx.db.session() as session:
        for table in (Item, OAuthAccessToken, WebSession):
            left = await session.scalar(select(func.count()).select_from(table).where(table.user_id == user.id))
            assert left == 0, table.__tablename__
        assert await session.get(User, user.id) is None
    signed_out = await signed_in.get("/account")
    assert signed_out.status_code == 303  # the browser's session went with the account
