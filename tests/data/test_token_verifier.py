"""The verified-token cache: one lookup per token however many requests carry it, and none that a
revocation overtook."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, update

from axiom_mcp.context import AppContext
from axiom_mcp.data.token_verifier import AccessTokenVerifier
from axiom_mcp.db.tables import OAuthAccessToken
from axiom_mcp.security.secrets import hash_secret
from tests.support.factories import TestUser, make_token


@contextmanager
def token_lookups(ctx: AppContext, raw: str) -> Iterator[list[str]]:
    """The statements that read this token from the access-token table while the block runs (only
    this token's: the engine is the run's, and another test's server may be verifying its own)."""
    seen: list[str] = []
    key = hash_secret(raw)

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "FROM _oauth_access_tokens" in statement and key in repr(parameters):
            seen.append(statement)

    engine = ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_requests_arriving_together_share_one_lookup(ctx: AppContext, user: TestUser) -> None:
    verifier = AccessTokenVerifier(ctx.db, cache_seconds=60.0)
    raw = await make_token(ctx, user.id, ["items:read"])
    with token_lookups(ctx, raw) as lookups:
        answers = await asyncio.gather(*(verifier.verify(raw) for _ in range(40)))
        assert all(a is not None and a.user_id == user.id for a in answers)
        assert len(lookups) == 1
        await verifier.verify(raw)  # cached now
        assert len(lookups) == 1


async def test_a_caller_that_goes_away_does_not_cancel_the_others(ctx: AppContext, user: TestUser) -> None:
    verifier = AccessTokenVerifier(ctx.db, cache_seconds=2.0)
    raw = await make_token(ctx, user.id, ["items:read"])
    leaving = asyncio.ensure_future(verifier.verify(raw))
    staying = asyncio.ensure_future(verifier.verify(raw))
    await asyncio.sleep(0)
    leaving.cancel()
    info = await staying
    assert info is not None and info.user_id == user.id
    assert leaving.cancelled()


async def test_a_lookup_begun_before_a_revocation_answers_no_one_after_it(ctx: AppContext, user: TestUser) -> None:
    verifier = AccessTokenVerifier(ctx.db, cache_seconds=60.0)
    raw = await make_token(ctx, user.id, ["items:read"])
    with token_lookups(ctx, raw) as lookups:
        before = asyncio.ensure_future(verifier.verify(raw))
        await asyncio.sleep(0)  # its lookup has begun
        # The token is revoked (in the database, then in this process) while that lookup runs.
        async with ctx.db.session() as session:
            await session.execute(
                update(OAuthAccessToken).where(OAuthAccessToken.token_hash == hash_secret(raw)).values(revoked=True)
            )
        verifier.forget_token(raw)
        after = await verifier.verify(raw)
        await before
        assert after is None  # its own lookup, begun after the revocation
        assert len(lookups) == 2
        # and nothing the early lookup read was cached: the next request looks again, and is refused
        assert await verifier.verify(raw) is None
        assert len(lookups) == 3


async def test_an_unknown_token_is_refused_and_not_cached(ctx: AppContext) -> None:
    verifier = AccessTokenVerifier(ctx.db, cache_seconds=60.0)
    with token_lookups(ctx, "axat_not-a-real-token") as lookups:
        assert await verifier.verify("axat_not-a-real-token") is None
        assert await verifier.verify("axat_not-a-real-token") is None
        assert len(lookups) == 2
