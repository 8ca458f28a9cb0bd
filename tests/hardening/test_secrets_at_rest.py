"""No usable credential at rest: after a full connection (a confidential client registered, a code
issued and redeemed, tokens refreshed, a web login), no raw secret appears anywhere in the
database, in any column of any table. (The original stored codes and tokens in plain text and
looked them up with string-built filters.)
"""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from axiom_mcp.app import create_auth_app, create_web_app
from axiom_mcp.context import AppContext
from axiom_mcp.db.tables import Base
from tests.hardening.oauth_flow import Pkce, code_for, consent, login_token, query_of, redeem, refresh, register
from tests.support.factories import make_user
from tests.web.helpers import own_address, submit


async def _every_value(ctx: AppContext) -> str:
    """Every value of every row of every table, as one text."""
    parts: list[str] = []
    async with ctx.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                parts.extend(repr(value) for value in row)
    return "\n".join(parts)


async def test_no_raw_secret_is_stored(ctx: AppContext) -> None:
    user = await make_user(ctx, name="Ann")
    secrets_seen: dict[str, str] = {"password": user.password, "api token": user.token}
    auth_transport = httpx.ASGITransport(app=create_auth_app(ctx), client=(own_address(), 1))
    web_transport = httpx.ASGITransport(app=create_web_app(ctx), client=(own_address(), 2))
    async with (
        httpx.AsyncClient(transport=auth_transport, base_url=ctx.settings.public_url) as api,
        httpx.AsyncClient(transport=web_transport, base_url=ctx.settings.web_url) as web,
    ):
        client = await register(api, token_endpoint_auth_method="client_secret_post")
        assert client.secret
        secrets_seen["client secret"] = client.secret
        secrets_seen["login token"] = await login_token(ctx, user.id)

        pending = await api.get("/oauth/authorize", params={
            "response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uris[0],
            "code_challenge": Pkce.new().challenge, "code_challenge_method": "S256"})
        secrets_seen["authorization request id"] = query_of(pending.headers["location"])["request_id"]

        pkce = Pkce.new()
        code = await code_for(api, ctx, client, user.id, pkce)
        secrets_seen["authorization code"] = code
        issued = (await redeem(api, client, code, pkce, client_secret=client.secret)).json()
        secrets_seen["access token"] = issued["access_token"]
        secrets_seen["refresh token"] = issued["refresh_token"]
        rotated = (await refresh(api, client, issued["refresh_token"], client_secret=client.secret)).json()
        secrets_seen["rotated access token"] = rotated["access_token"]
        secrets_seen["rotated refresh token"] = rotated["refresh_token"]
        denied = await consent(api, ctx, user.id, {
            "response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uris[0],
            "code_challenge": Pkce.new().challenge, "code_challenge_method": "S256"}, decision="deny")
        assert "error=access_denied" in denied

        signed_in = await submit(web, "/auth", email=user.email, password=user.password)
        assert signed_in.status_code == 303, signed_in.text
        secrets_seen["web session cookie"] = web.cookies["axiom_session"]
        secrets_seen["csrf cookie"] = web.cookies["axiom_csrf"]

    stored = await _every_value(ctx)
    assert client.client_id in stored and user.email in stored  # the scan does see what was written
    leaked = [name for name, value in secrets_seen.items() if value in stored]
    assert not leaked, f"stored in clear: {leaked}"
    # And the password is kept only as an argon2 hash.
    assert re.search(r"\$argon2id\$", stored)
