"""The limit on open client registration (POST /oauth/register) holds across instances and IPv6 addresses.

| attack | what must happen |
|---|---|
| registering through every instance behind the load balancer | one count, kept in the database |
| registering from a new address of one's IPv6 /64 each time | the /64 is one address, as for logins |
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
import pytest

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.oauth.errors import TooManyRequests
from axiom_mcp.oauth.ratelimit import limit_registrations
from tests.hardening.oauth_flow import APP_CALLBACK

LIMIT = 3
BODY = {"redirect_uris": [APP_CALLBACK], "token_endpoint_auth_method": "none"}


def _block() -> str:
    """An IPv6 /64 of this test's own (documentation prefix), so no other test shares its count."""
    return f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFFFF):x}"


def _strict(ctx: AppContext) -> AppContext:
    return AppContext(settings=ctx.settings.model_copy(update={"registration_rate_limit": LIMIT}), db=ctx.db)


async def _register(app: Callable[..., object], address: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/oauth/register", json=BODY)


async def test_instances_and_a_whole_ipv6_block_share_one_count(ctx: AppContext) -> None:
    strict = _strict(ctx)
    instances = [create_auth_app(strict), create_auth_app(strict)]
    block = _block()
    statuses = [
        (await _register(instances[n % 2], f"{block}::{n + 1}")).status_code for n in range(LIMIT + 1)
    ]
    assert statuses == [201] * LIMIT + [429], statuses


async def test_the_registration_limit_counts_in_the_database_per_ipv6_block(ctx: AppContext) -> None:
    strict, block = _strict(ctx), _block()
    for n in range(LIMIT):
        await limit_registrations(strict.db, strict.settings, f"{block}:{n:x}::1")
    with pytest.raises(TooManyRequests) as refused:
        await limit_registrations(strict.db, strict.settings, f"{block}:ffff::1")
    assert refused.value.error == "temporarily_unavailable" and refused.value.retry_after >= 1
    await limit_registrations(strict.db, strict.settings, f"{_block()}::1")  # another subscriber
