"""Mailed single-use links: only a hash stored, one use, one hour, one purpose; what a reset ends;
confirming and changing an address."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from axiom_mcp.context import AppContext
from axiom_mcp.data import email_addresses, one_time_links, password_reset, users, web_sessions
from axiom_mcp.data.one_time_links import LINK_TTL
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.db.tables import OneTimeLink
from axiom_mcp.errors import ConflictError, ValidationFailed
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret
from tests.support.factories import TestUser, make_token


async def test_only_a_hash_of_the_link_is_stored(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        raw = await one_time_links.create_link(session, user.id, "password_reset", user.email)
    async with ctx.db.session() as session:
        row = await session.scalar(select(OneTimeLink).where(OneTimeLink.user_id == user.id))
    assert row is not None and row.token_hash == hash_secret(raw)
    assert raw not in (row.token_hash, row.id, row.email)
    assert row.expires - row.created == LINK_TTL == timedelta(hours=1)


async def test_a_link_works_once(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        raw = await one_time_links.create_link(session, user.id, "password_reset", user.email)
    async with ctx.db.session() as session:
        assert await one_time_links.peek_link(session, raw, "password_reset") is not None  # looking is not using
        used = await one_time_links.use_link(session, raw, "password_reset")
    assert used == one_time_links.LinkUse(user_id=user.id, email=user.email)
    async with ctx.db.session() as session:
        assert await one_time_links.use_link(session, raw, "password_reset") is None
        assert await one_time_links.peek_link(session, raw, "password_reset") is None


async def test_two_racing_uses_get_one_success(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        raw = await one_time_links.create_link(session, user.id, "verify_email", user.email)

    async def use() -> object:
        async with ctx.db.session() as session:
            return await one_time_links.use_link(session, raw, "verify_email")

    results = await asyncio.gather(*(use() for _ in range(4)))
    assert sum(r is not None for r in results) == 1


async def test_a_link_dies_after_an_hour(ctx: AppContext, user: TestUser) -> None:
    sent = utcnow()
    async with ctx.db.session() as session:
        raw = await one_time_links.create_link(session, user.id, "password_reset", user.email, now=sent)
    async with ctx.db.session() as session:
        later = sent + LINK_TTL
        assert await one_time_links.peek_link(session, raw, "password_reset", now=later) is None
        assert await one_time_links.use_link(session, raw, "password_reset", now=later) is None
        almost = sent + LINK_TTL - timedelta(seconds=1)
        assert await one_time_links.use_link(session, raw, "password_reset", now=almost) is not None
    async with ctx.db.session() as session:
        assert await one_time_links.remove_expired(session, now=later) >= 1
        assert await session.scalar(select(OneTimeLink.id).where(OneTimeLink.user_id == user.id)) is None


async def test_a_link_opens_only_its_own_page(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        raw = await one_time_links.create_link(session, user.id, "verify_email", user.email)
        assert await one_time_links.use_link(session, raw, "password_reset") is None
        assert await one_time_links.use_link(session, raw, "change_email") is None


@pytest.mark.parametrize("raw", ["", None, "axol_unknown", "axol_" + "x" * 5000, "axws_wrong"],
                         ids=["empty", "none", "unknown", "huge", "wrong-prefix"])
async def test_unknown_links_open_nothing(ctx: AppContext, raw: str | None) -> None:
    async with ctx.db.session() as session:
        assert await one_time_links.use_link(session, raw, "password_reset") is None


async def test_a_reset_ends_sessions_api_tokens_and_older_links_but_not_apps(ctx: AppContext, user: TestUser) -> None:
    api_token = await make_token(ctx, user.id, ["items:read"], client_id=FIRST_PARTY_CLIENT_ID)
    app_token = await make_token(ctx, user.id, ["items:read"], client_id="some-app")
    async with ctx.db.session() as session:
        cookie, _ = await web_sessions.create_session(session, user.id, timedelta(hours=1))
        older = await one_time_links.create_link(session, user.id, "password_reset", user.email)
    async with ctx.db.session() as session:
        await password_reset.reset_password(session, user.id, "a brand new password")
    async with ctx.db.session() as session:
        assert await web_sessions.find_session(session, cookie) is None
        assert await one_time_links.use_link(session, older, "password_reset") is None
        assert (await users.authenticate(session, user.email, "a brand new password")).id == user.id
    ctx.tokens.clear()
    assert await ctx.tokens.verify(api_token) is None
    assert await ctx.tokens.verify(app_token) is not None  # the person chooses to disconnect apps


async def test_a_too_short_password_changes_nothing(ctx: AppContext, user: TestUser) -> None:
    with pytest.raises(ValidationFailed):
        async with ctx.db.session() as session:
            await password_reset.reset_password(session, user.id, "short")
    async with ctx.db.session() as session:
        assert (await users.authenticate(session, user.email, user.password)).id == user.id


async def test_confirming_marks_verified_only_for_the_current_address(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        assert not await email_addresses.confirm_email(session, user.id, "someone-else@example.com")
        assert not (await users.get_profile(session, user.id)).verified
        assert await email_addresses.confirm_email(session, user.id, user.email.upper())
        assert (await users.get_profile(session, user.id)).verified


async def test_changing_the_address(ctx: AppContext, user: TestUser, other_user: TestUser) -> None:
    async with ctx.db.session() as session:
        pending = await one_time_links.create_link(session, user.id, "password_reset", user.email)
    with pytest.raises(ConflictError):
        async with ctx.db.session() as session:
            await email_addresses.change_email(session, user.id, other_user.email.upper())
    new = f"new-{user.email}"
    async with ctx.db.session() as session:
        assert await email_addresses.change_email(session, user.id, new.upper()) == user.email
    async with ctx.db.session() as session:
        profile = await users.get_profile(session, user.id)
        assert (profile.email, profile.verified) == (new, True)
        assert await one_time_links.use_link(session, pending, "password_reset") is None
        assert await email_addresses.password_matches(session, user.id, user.password)
        assert not await email_addresses.password_matches(session, user.id, "wrong")
