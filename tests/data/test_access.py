"""A connection's view: everything, or the items of its client profile (never everything by mistake)."""

from __future__ import annotations

from axiom_mcp.context import AppContext
from axiom_mcp.data import access, records
from axiom_mcp.data.kinds import CLIENTS, TAGS
from axiom_mcp.data.schemas import ClientCreate, TagCreate
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
