"""Making users and tokens for tests through the real data layer."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from axiom_mcp.context import AppContext
from axiom_mcp.data import users
from axiom_mcp.data.cleanup import CleanupReport, remove_expired
from axiom_mcp.data.tokens import issue_access_token
from axiom_mcp.db.tables import User
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


_PASSWORD_HASH: list[str] = []
"""The argon2 hash of PASSWORD, made once: hashing costs ~0.1-1 s, and most tests make two users."""


async def make_user(ctx: AppContext, *, name: str = "Test User") -> TestUser:
    """A new account (password PASSWORD) and an API token with every scope.

    The first account of a run goes through ``users.create_user``; later ones reuse its password
    hash (argon2 salts it, so it verifies the same password) to keep the suite fast. Sign-up
    itself is tested in tests/data/test_users.py and tests/auth_service/test_accounts.py.
    """
    email = f"user-{secrets.token_hex(6)}@example.com"
    async with ctx.db.session() as session:
        if _PASSWORD_HASH:
            user = User(email=email, name=name, password_hash=_PASSWORD_HASH[0])
            session.add(user)
            await session.flush()
        else:
            user = await users.create_user(session, users.SignUp(email=email, password=PASSWORD, name=name))
            _PASSWORD_HASH.append(user.password_hash)
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


async def end_undo_windows(ctx: AppContext) -> CleanupReport:
    """Cleanup as it runs once every delete's undo window has ended (every user's: the database is shared)."""
    ended = ctx.settings.model_copy(update={"undo_window": timedelta(0)})
    async with ctx.db.session() as session:
        return await remove_expired(session, ended, ctx.blobs)
