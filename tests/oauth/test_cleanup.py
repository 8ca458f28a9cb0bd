"""Expired codes, requests and tokens, and registrations nobody uses, are removed automatically."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from axiom_mcp.context import AppContext
from axiom_mcp.data.cleanup import remove_expired
from axiom_mcp.db.tables import (
    OAuthAccessToken,
    OAuthAuthorizationCode,
    OAuthAuthorizationRequest,
    OAuthClient,
    OAuthRefreshToken,
)
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret
from tests.oauth.helpers import add_client, approved_code, pkce, start_request
from tests.support.factories import TestUser


async def _age(ctx: AppContext, client_id: str, *, days: int, used: bool, source: str = "dcr") -> None:
    past = utcnow() - timedelta(days=days)
    async with ctx.db.session() as session:
        await session.execute(update(OAuthClient).where(OAuthClient.client_id == client_id).values(
            created=past, last_used=past if used else None, source=source))


async def test_cleanup_removes_what_expired_and_keeps_the_rest(ctx: AppContext, account: TestUser) -> None:
    past = utcnow() - timedelta(seconds=1)
    client_id = await add_client(ctx)
    live_code = await approved_code(ctx, client_id, account.id, pkce().challenge)
    dead_code = await approved_code(ctx, client_id, account.id, pkce().challenge)
    dead_request = await start_request(ctx, client_id, pkce().challenge)
    live_request = await start_request(ctx, client_id, pkce().challenge)
    async with ctx.db.session() as session:
        await session.execute(update(OAuthAuthorizationCode).where(
            OAuthAuthorizationCode.code_hash == hash_secret(dead_code)).values(expires=past))
        await session.execute(update(OAuthAuthorizationRequest).where(
            OAuthAuthorizationRequest.request_hash == hash_secret(dead_request)).values(expires=past))
        for table in (OAuthAccessToken, OAuthRefreshToken):
            for marker, values in (("expired", {"expires": past}), ("revoked", {"revoked": True}), ("live", {})):
                fields = {"expires": utcnow() + timedelta(days=1), **values}
                session.add(table(token_hash=hash_secret(f"{client_id}-{table.__name__}-{marker}"),
                                  grant_id="g" * 15, client_id=client_id, user_id=account.id, **fields))

    never_used = await add_client(ctx)
    unused_lately = await add_client(ctx)
    unused_but_consented = await add_client(ctx)
    recent = await add_client(ctx)
    stale_document = await add_client(ctx)
    await _age(ctx, never_used, days=8, used=False)
    await _age(ctx, unused_lately, days=8, used=True)
    await approved_code(ctx, unused_but_consented, account.id, pkce().challenge)
    await _age(ctx, unused_but_consented, days=30, used=True)
    await _age(ctx, stale_document, days=8, used=True, source="cimd")

    async with ctx.db.session() as session:
        report = await remove_expired(session, ctx.settings)
    assert report.authorization_codes >= 1 and report.unused_clients >= 3

    async with ctx.db.session() as session:
        codes = set(await session.scalars(select(OAuthAuthorizationCode.code_hash).where(
            OAuthAuthorizationCode.client_id == client_id)))
        requests = set(await session.scalars(select(OAuthAuthorizationRequest.request_hash).where(
            OAuthAuthorizationRequest.client_id == client_id)))
        clients = set(await session.scalars(select(OAuthClient.client_id).where(OAuthClient.client_id.in_(
            [never_used, unused_lately, unused_but_consented, recent, stale_document]))))
        tokens = {
            table.__name__: set(await session.scalars(select(table.token_hash).where(table.client_id == client_id)))
            for table in (OAuthAccessToken, OAuthRefreshToken)
        }
    assert codes == {hash_secret(live_code)}
    assert requests == {hash_secret(live_request)}
    assert clients == {unused_but_consented, recent}
    for name, hashes in tokens.items():
        assert hashes == {hash_secret(f"{client_id}-{name}-live")}


async def test_cleanup_keeps_a_named_resource_server(ctx: AppContext) -> None:
    """A resource server only introspects, so it is never "used" at the token endpoint: naming it in
    ``introspection_clients`` keeps it however long it looks unused."""
    resource_server = await add_client(ctx, secret="axcs_resource-server-secret")
    await _age(ctx, resource_server, days=30, used=False)
    settings = ctx.settings.model_copy(update={"introspection_clients": [resource_server]})
    async with ctx.db.session() as session:
        await remove_expired(session, settings)
    async with ctx.db.session() as session:
        kept = await session.scalar(select(OAuthClient.client_id).where(OAuthClient.client_id == resource_server))
    assert kept == resource_server
