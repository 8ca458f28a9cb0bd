"""OAuth test fixtures."""

from __future__ import annotations

import pytest

from axiom_mcp.context import AppContext
from tests.support.factories import TestUser, make_user


@pytest.fixture(scope="session")
async def account(ctx: AppContext) -> TestUser:
    """One user per database for protocol tests that do not look at a user's list of apps
    (each test registers clients of its own, so they stay apart; password hashing is slow)."""
    return await make_user(ctx, name="Oauth Tester")
