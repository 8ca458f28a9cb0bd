"""A stolen refresh token must not take over a grant (RFC 9700 section 4.14.2).

The previous refresh token is honoured for ``refresh_grace`` after its first use, so a client
that lost the answer can retry. Presented later, it is a stolen copy: the whole grant dies, every
access and refresh token of it, whoever holds them. "Later" is set through the settings: the
``late`` service is the same deployment with a grace of one microsecond.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from tests.hardening.oauth_flow import assert_oauth_error, refresh, register, tokens
from tests.support.factories import TestUser, make_user


@dataclass
class Services:
    ctx: AppContext
    api: httpx.AsyncClient
    """The auth service with the default grace."""
    late: httpx.AsyncClient
    """The same service and database, asked after the grace has passed."""

    async def live(self, token: str) -> bool:
        return await self.ctx.tokens.verify(token) is not None


@pytest.fixture(scope="module")
async def services(ctx: AppContext) -> AsyncIterator[Services]:
    settings = ctx.settings.model_copy(update={"registration_rate_limit": 1_000_000})
    shared = AppContext(settings=settings, db=ctx.db)
    late = AppContext(settings=settings.model_copy(update={"refresh_grace": timedelta(microseconds=1)}), db=ctx.db)
    late.tokens = shared.tokens  # one process: one token cache
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=create_auth_app(shared)),
                          base_url=settings.public_url) as api,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=create_auth_app(late)),
                          base_url=settings.public_url) as late_api,
    ):
        yield Services(shared, api, late_api)


@pytest.fixture(scope="module")
async def holder(services: Services) -> TestUser:
    return await make_user(services.ctx, name="Token holder")


def test_the_grace_is_thirty_seconds_by_default(ctx: AppContext) -> None:
    assert ctx.settings.refresh_grace == timedelta(seconds=30)


async def test_a_retry_within_the_grace_still_works(services: Services, holder: TestUser) -> None:
    s = services
    client = await register(s.api)
    first = await tokens(s.api, s.ctx, client, holder.id)
    second = await refresh(s.api, client, first["refresh_token"])
    assert second.status_code == 200, second.text
    retry = await refresh(s.api, client, first["refresh_token"])  # the answer was lost: same token again
    assert retry.status_code == 200, retry.text
    assert await s.live(retry.json()["access_token"])
    onward = await refresh(s.api, client, retry.json()["refresh_token"])
    assert onward.status_code == 200, onward.text


async def test_an_old_refresh_token_after_the_grace_revokes_the_grant(services: Services, holder: TestUser) -> None:
    """RT1 -> RT2 (used by the client); RT1 retried -> RT3; RT1 again after the grace: refused, and
    RT2, RT3 and every access token of the grant are dead."""
    s = services
    client = await register(s.api)
    first = await tokens(s.api, s.ctx, client, holder.id)
    rt1 = first["refresh_token"]
    second = (await refresh(s.api, client, rt1)).json()
    third = await refresh(s.api, client, rt1)  # a retry within the grace
    assert third.status_code == 200, third.text
    third_body = third.json()

    stolen = await refresh(s.late, client, rt1)

    assert_oauth_error(stolen, 400, "invalid_grant")
    for issued in (first, second, third_body):
        assert not await s.live(issued["access_token"]), "every access token of the grant must die"
    for rt in (second["refresh_token"], third_body["refresh_token"], rt1):
        assert_oauth_error(await refresh(s.api, client, rt), 400, "invalid_grant")


async def test_the_issue_sequence_leaves_the_thief_nothing(services: Services, holder: TestUser) -> None:
    """RT1 -> RT2; the thief presents RT1 after the grace: no RT3, and the grant is dead for both."""
    s = services
    client = await register(s.api)
    first = await tokens(s.api, s.ctx, client, holder.id)
    second = (await refresh(s.api, client, first["refresh_token"])).json()

    thief = await refresh(s.late, client, first["refresh_token"])

    assert_oauth_error(thief, 400, "invalid_grant")
    assert "refresh_token" not in thief.json()
    assert_oauth_error(await refresh(s.api, client, second["refresh_token"]), 400, "invalid_grant")
    assert not await s.live(second["access_token"]) and not await s.live(first["access_token"])


async def test_a_replaced_successor_after_the_grace_revokes_the_grant(services: Services, holder: TestUser) -> None:
    """RT2 replaced by a retry (RT1 -> RT3) and presented after the grace: the grant dies, RT3 too."""
    s = services
    client = await register(s.api)
    first = await tokens(s.api, s.ctx, client, holder.id)
    second = (await refresh(s.api, client, first["refresh_token"])).json()
    third = (await refresh(s.api, client, first["refresh_token"])).json()

    assert_oauth_error(await refresh(s.late, client, second["refresh_token"]), 400, "invalid_grant")

    assert_oauth_error(await refresh(s.api, client, third["refresh_token"]), 400, "invalid_grant")
    assert not await s.live(third["access_token"])
