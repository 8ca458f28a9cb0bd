"""One heavy list or search statement cannot hold a read connection for as long as it likes.

| attack | what must happen |
|---|---|
| a statement that runs for seconds on the read pool | cancelled at ``settings.statement_timeout`` (PostgreSQL ``statement_timeout``, SQLite's progress handler), ``QueryTimedOut`` |
| a list over HTTP that runs past the limit | 503 naming the problem (JSON from the API, a page from the web), never a 500 |
| the read pool after a cancelled statement | still answers the next read |
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from axiom_mcp.app import create_auth_app, create_web_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import ItemCreate
from axiom_mcp.db.engine import Database
from axiom_mcp.errors import QueryTimedOut
from tests.support.factories import TestUser, make_token
from tests.web.helpers import own_address, sign_in_directly

LIMIT = timedelta(milliseconds=300)

SLOW = {
    # Counts to a hundred million: many seconds of work in SQLite's virtual machine.
    "sqlite": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 100000000) "
    "SELECT count(*) FROM r",
    "postgresql": "SELECT pg_sleep(10)",
}


@pytest.fixture(scope="module")
async def impatient(ctx: AppContext) -> AsyncIterator[AppContext]:
    """Another process's view of the same database, with a short statement time limit."""
    settings = ctx.settings.model_copy(update={"statement_timeout": LIMIT})
    db = Database(settings)
    try:
        yield AppContext(settings=settings, db=db)
    finally:
        await db.close()


async def test_a_slow_statement_is_cancelled_at_the_limit(impatient: AppContext) -> None:
    reads = impatient.db.reads
    started = time.monotonic()
    with pytest.raises(QueryTimedOut):
        await reads.fetch(SLOW[reads.dialect], [])
    assert time.monotonic() - started < 5
    assert [tuple(row) for row in await reads.fetch("SELECT 1", [])] == [(1,)]


@pytest.mark.parametrize("surface", ["api", "web"])
async def test_a_list_past_the_limit_is_a_503(ctx: AppContext, user: TestUser, db_kind: str, surface: str) -> None:
    if db_kind == "postgres":  # a real list is too quick to outlast any limit PostgreSQL can be given
        pytest.skip("shown on PostgreSQL by the slow statement above; the rendering is shared")
    # Enough rows that the search takes more than an instant: every item holds the word searched
    # for, so each is ranked (a word nobody has is found absent in a few steps of the FTS index).
    async with ctx.db.session() as session:
        for n in range(100):
            await records.create_record(ITEMS, session, user.id, ItemCreate(name=f"note {n}", content="words " * 50))
    settings = ctx.settings.model_copy(update={"statement_timeout": timedelta(microseconds=1)})
    db = Database(settings)
    impatient = AppContext(settings=settings, db=db)
    try:
        if surface == "api":
            token = await make_token(ctx, user.id, ["items:read"])
            transport = httpx.ASGITransport(app=create_auth_app(impatient))
            async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as api:
                response = await api.get(
                    "/api/v1/user/items", params={"q": "words"}, headers={"Authorization": f"Bearer {token}"}
                )
        else:
            transport = httpx.ASGITransport(app=create_web_app(impatient), client=(own_address(), 1))
            async with httpx.AsyncClient(transport=transport, base_url=settings.web_url) as web:
                await sign_in_directly(ctx, web, user.id)
                response = await web.get("/items", params={"q": "words"})
    finally:
        await db.close()
    assert response.status_code == 503, response.text
    if surface == "api":
        assert response.json()["message"].startswith("This search took too long")
    else:
        assert "That took too long" in response.text and "This search took too long" in response.text
