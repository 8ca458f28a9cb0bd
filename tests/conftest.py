"""Shared fixtures: every data-layer and API test runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic_settings import BaseSettings

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.db.migrate import migrate
from axiom_mcp.settings import Settings
from tests.support.databases import database
from tests.support.factories import TestUser, make_user


class _ArgumentsOnly(Settings):
    """Settings from arguments alone: this machine's AXIOM_*, PORT or VITE_* variables never leak in."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: Any, **_other_sources: Any
    ) -> tuple[Any, ...]:
        return (init_settings,)


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    """Test settings: no environment leaks in; the caller names ports and URLs it needs."""
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": "test-secret-key-not-for-production",
        "cimd_allow_private_addresses": True,
        "cimd_allow_http": True,
        # The suite registers clients from loopback all day, counted in the database the whole run
        # shares: the limit itself is tested with its own settings (tests/hardening/test_registration_limit.py).
        "registration_rate_limit": 1_000_000,
    }
    values.update(overrides)
    return _ArgumentsOnly(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def ctx(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AppContext]:
    """A migrated database of each kind, shared by the run (tests isolate themselves by user)."""
    folder = tmp_path_factory.mktemp(db_kind)
    async with database(db_kind, folder) as url:
        context = AppContext.from_settings(make_settings(url, folder))
        await migrate(context.db.engine)
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
async def user(ctx: AppContext) -> TestUser:
    return await make_user(ctx, name="Ann")


@pytest.fixture
async def other_user(ctx: AppContext) -> TestUser:
    return await make_user(ctx, name="Bob")


@pytest.fixture
async def api(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the auth + API app (in process, real database)."""
    transport = httpx.ASGITransport(app=create_auth_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
        yield client
