"""Making users and tokens for tests through the real data layer."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from axiom_mcp.context import AppContext
from axiom_mcp.data import users
from axiom_mcp.data.tokens import issue_access_token
from axiom_mcp.settings import SCOPES

PASSWORD = "correct horse battery staple"


@dataclass
class TestUser:
    __test__ = False
    id: str
    email: str
    password: str
    token: str
    """An API token with every scope."""


async def make_user(ctx: AppContext, *, name: str = "Test User") -> TestUser:
    email = f"user-{secrets.token_hex(6)}@example.com"
    async with ctx.db.session() as session:
        user = await users.create_user(session, users.SignUp(email=email, password=PASSWORD, name=name))
        token, _ = await issue_access_token(
            session,
            user_id=user.id,
            client_id="test",
            scopes=list(SCOPES),
            resource=ctx.settings.api_resource,
            ttl=ctx.settings.access_token_ttl,
        )
    return TestUser(id=user.id, email=email, password=PASSWORD, token=token)


async def make_token(
    ctx: AppContext, user_id: str, scopes: list[str], *, resource: str | None = None, client_id: str = "test"
) -> str:
    async with ctx.db.session() as session:
        token, _ = await issue_access_token(
            session,
            user_id=user_id,
            client_id=client_id,
            scopes=scopes,
            resource=resource if resource is not None else ctx.settings.api_resource,
            ttl=ctx.settings.access_token_ttl,
        )
    return token
