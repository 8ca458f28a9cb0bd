"""Helpers of the REST API tests: the three kinds of record, bearer headers, error checks."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.ids import new_id
from tests.support.factories import TestUser

API = "/api/v1"


@dataclass(frozen=True)
class Kind:
    """One kind of record and how the API spells it."""

    plural: str
    tag_field: str | None = None
    """The field holding tag ids (items: ``tags``, clients: ``accessTags``), if any."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields, beyond ``name``, that a full create sends."""

    @property
    def path(self) -> str:
        return f"{API}/user/{self.plural}"

    def __str__(self) -> str:
        return self.plural


ITEMS = Kind("items", tag_field="tags", extra={"content": "<p>hello</p>", "files": ["a.pdf"]})
CLIENTS = Kind("clients", tag_field="accessTags")
TAGS = Kind("tags")
KINDS = [ITEMS, CLIENTS, TAGS]
TAGGED = [ITEMS, CLIENTS]


def bearer(user: TestUser | str) -> dict[str, str]:
    token = user if isinstance(user, str) else user.token
    return {"Authorization": f"Bearer {token}"}


def unknown_id() -> str:
    """An id shaped like a real one that names no record."""
    return new_id()


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is a JSON error of PocketBase's shape, naming ``field`` when given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"status", "message", "data"}
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert field in body["data"], body
        assert body["data"][field]["message"]
    return body


async def create(api: httpx.AsyncClient, kind: Kind, user: TestUser, **values: Any) -> dict[str, Any]:
    body = {"name": f"{kind.plural} {secrets.token_hex(3)}", **values}
    response = await api.post(kind.path, json=body, headers=bearer(user))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def total(api: httpx.AsyncClient, kind: Kind, user: TestUser) -> int:
    response = await api.get(kind.path, headers=bearer(user))
    assert response.status_code == 200, response.text
    return int(response.json()["totalItems"])


_APPS: dict[str, ASGIApp] = {}


def auth_app(ctx: AppContext) -> ASGIApp:
    """One auth app per database for this folder's tests: building one takes ~0.1-0.4 s, and the
    routes under test keep no state of their own between requests (the database is the state)."""
    key = ctx.settings.database_url
    if key not in _APPS:
        _APPS[key] = create_auth_app(ctx)
    return _APPS[key]


@pytest.fixture
async def api(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    """Overrides tests/conftest.py's ``api`` with the shared app above."""
    transport = httpx.ASGITransport(app=auth_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
        yield client


@pytest.fixture
async def api_from(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    """The API seen from an address of its own, so login throttling of other tests never meets it."""
    address = f"198.51.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    transport = httpx.ASGITransport(app=auth_app(ctx), client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=ctx.settings.public_url) as client:
        yield client
