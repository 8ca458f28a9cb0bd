"""A connection's view: everything, or the items of its client profile (never everything by mistake)."""

from __future__ import annotations

import asyncio

from axiom_mcp.context import AppContext
from axiom_mcp.data import access, records
from axiom_mcp.data.kinds import CLIENTS, TAGS
from axiom_mcp.data.schemas import ClientCreate, TagCreate
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.db.tables import Client, OAuthConsent
from tests.support.factories import TestUser

APP = "https://chatgpt.com/oauth/client.json"


async def test_a_connection_sees_everything_unless_restricted_to_a_profile(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        assert await access.connection_view(session, user.id, APP) == access.everything(user.id)  # no consent yet
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        profile = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="ChatGPT", accessTags=[work.id]))
        consent = OAuthConsent(user_id=user.id, client_id=APP, scopes="items:read")
        session.add(consent)
        await session.flush()
        assert not (await access.connection_view(session, user.id, APP)).restricted
        consent.restricted, consent.profile_id = True, profile.id
        await session.flush()
        view = await access.connection_view(session, user.id, APP)
        assert view.restricted and view.access_tags == {work.id} and view.profile_id == profile.id


async def test_a_restricted_connection_whose_profile_is_deleted_sees_nothing(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        profile = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="Gone", accessTags=[work.id]))
        session.add(OAuthConsent(user_id=user.id, client_id=APP, scopes="items:read", restricted=True, profile_id=profile.id))
        await session.flush()
        await records.delete_record(CLIENTS, session, user.id, profile.id)
    async with ctx.db.session() as session:
        view = await access.connection_view(session, user.id, APP)
        assert view.restricted and view.access_tags == frozenset()
        assert await session.get(Client, profile.id) is None


async def test_views_are_cached_for_the_bound_and_looked_up_once_at_a_time(ctx: AppContext, user: TestUser) -> None:
    async with ctx.db.session() as session:
        work = await records.create_record(TAGS, session, user.id, TagCreate(name="work"))
        profile = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="App", accessTags=[work.id]))
        consent = OAuthConsent(user_id=user.id, client_id=APP, scopes="items:read", restricted=True, profile_id=profile.id)
        session.add(consent)
    views = access.Views(ctx.db, 0.2)
    first, second = await asyncio.gather(views.of(user.id, APP), views.of(user.id, APP))
    assert first is second and first.access_tags == {work.id}  # one lookup answered both

    async with ctx.db.session() as session:
        stored = await session.get(OAuthConsent, consent.id)
        assert stored is not None
        stored.restricted = False
    assert (await views.of(user.id, APP)).restricted  # within the bound: as it was
    await asyncio.sleep(0.3)
    assert not (await views.of(user.id, APP)).restricted  # after it: as it is now
    assert await views.of(user.id, FIRST_PARTY_CLIENT_ID) == access.everything(user.id)  # no lookup at all
