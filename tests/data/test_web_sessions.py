"""Web sessions: the cookie value is never stored, sessions expire, and can be ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from axiom_mcp.context import AppContext
from axiom_mcp.data import web_sessions
from axiom_mcp.db.tables import WebSession
from axiom_mcp.security.secrets import hash_secret
from tests.support.factories import TestUser


async def test_only_a_hash_of_the_cookie_is_stored(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        raw, info = await web_sessions.create_session(session, user.id, timedelta(hours=1))
    async with ctx.db.session() as session:
        row = await session.get(WebSession, info.session_id)
    assert row is not None
    assert row.session_hash == hash_secret(raw)
    assert raw not in (row.session_hash, row.csrf_secret, row.id)
    assert len(row.csrf_secret) == 64


@pytest.mark.parametrize("raw", ["", "axws_unknown", "x" * 5000, "not-a-session", None],
                         ids=["empty", "unknown", "huge", "wrong-prefix", "none"])
async def test_unknown_cookies_find_nothing(ctx: AppContext, raw: str | None) -> None:
    async with ctx.db.session() as session:
        assert await web_sessions.find_session(session, raw) is None


async def test_a_session_expires(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        raw, _ = await web_sessions.create_session(session, user.id, timedelta(seconds=-1))
        assert await web_sessions.find_session(session, raw) is None


async def test_ending_sessions(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        kept, kept_info = await web_sessions.create_session(session, user.id, timedelta(hours=1))
        other, _ = await web_sessions.create_session(session, user.id, timedelta(hours=1))
        third, _ = await web_sessions.create_session(session, user.id, timedelta(hours=1))
    async with ctx.db.session() as session:
        assert await web_sessions.end_other_sessions(session, user.id, kept_info.session_id) == 2
        assert await web_sessions.find_session(session, other) is None
        assert await web_sessions.find_session(session, kept) == kept_info
        await web_sessions.end_session(session, kept)
        assert await web_sessions.find_session(session, kept) is None
        remaining = (await session.scalars(select(WebSession).where(WebSession.user_id == user.id))).all()
    assert remaining == []
    assert third != other != kept
