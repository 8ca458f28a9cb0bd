"""Every REST route needs a live bearer token for this API (RFC 6750) carrying the route's scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data.tokens import issue_access_token, revoke_access_token
from axiom_mcp.settings import SCOPES
from tests.auth_service.conftest import API, KINDS, assert_error, bearer, create
from tests.support.factories import TestUser, make_token

ROUTES: list[Any] = [pytest.param("GET", f"{API}/user/profile", None, "profile:read", id="GET-profile")]
for _kind in KINDS:
    _p = _kind.plural
    ROUTES += [
        pytest.param("GET", f"{API}/user/{_p}", _kind, f"{_p}:read", id=f"GET-{_p}"),
        pytest.param("GET", f"{API}/user/{_p}/{{id}}", _kind, f"{_p}:read", id=f"GET-{_p}-id"),
        pytest.param("POST", f"{API}/user/{_p}", _kind, f"{_p}:write", id=f"POST-{_p}"),
        pytest.param("PATCH", f"{API}/user/{_p}/{{id}}", _kind, f"{_p}:write", id=f"PATCH-{_p}-id"),
        pytest.param("DELETE", f"{API}/user/{_p}/{{id}}", _kind, f"{_p}:write", id=f"DELETE-{_p}-id"),
    ]
routes = pytest.mark.parametrize(("method", "path", "kind", "scope"), ROUTES)

SUCCESS = {"GET": 200, "POST": 201, "PATCH": 200, "DELETE": 204}


async def call(
    api: httpx.AsyncClient, owner: TestUser, method: str, path: str, kind: Any, headers: dict[str, str]
) -> httpx.Response:
    """Call the route on a real record of ``owner`` (so only the token decides the answer)."""
    if "{id}" in path:
        record = await create(api, kind, owner)
        path = path.replace("{id}", record["id"])
    body = {"name": "from the auth table"} if method in ("POST", "PATCH") else None
    return await api.request(method, path, json=body, headers=headers)


@routes
async def test_the_right_scope_is_enough(
    ctx: AppContext, api: httpx.AsyncClient, user: TestUser, method: str, path: str, kind: Any, scope: str
) -> None:
    token = await make_token(ctx, user.id, [scope])
    response = await call(api, user, method, path, kind, bearer(token))
    assert response.status_code == SUCCESS[method], response.text


@routes
async def test_no_token_is_a_401_without_an_error_code(
    api: httpx.AsyncClient, user: TestUser, method: str, path: str, kind: Any, scope: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer   "}, {"Authorization": f"Basic {user.token}"}):
        response = await call(api, user, method, path, kind, headers)
        assert_error(response, 401)
        # RFC 6750 section 3.1: a request without credentials gets a challenge with no error code
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and "error=" not in challenge


async def _expired(ctx: AppContext, user: TestUser) -> str:
    async with ctx.db.session() as session:
        raw, _ = await issue_access_token(
            session, user_id=user.id, client_id="test", scopes=list(SCOPES),
            resource=ctx.settings.api_resource, ttl=timedelta(seconds=-1),
        )
    return raw


async def _no_audience(ctx: AppContext, user: TestUser) -> str:
    async with ctx.db.session() as session:
        raw, _ = await issue_access_token(
            session, user_id=user.id, client_id="test", scopes=list(SCOPES), resource=None,
            ttl=timedelta(hours=1),
        )
    return raw


async def _revoked(ctx: AppContext, user: TestUser) -> str:
    raw = await make_token(ctx, user.id, list(SCOPES))
    assert await ctx.tokens.verify(raw) is not None  # cached now
    async with ctx.db.session() as session:
        assert await revoke_access_token(session, raw)
    ctx.tokens.forget_token(raw)
    return raw


async def _for_mcp(ctx: AppContext, user: TestUser) -> str:
    return await make_token(ctx, user.id, list(SCOPES), resource=ctx.settings.mcp_resource)


async def _for_another_api(ctx: AppContext, user: TestUser) -> str:
    return await make_token(ctx, user.id, list(SCOPES), resource="https://elsewhere.example/api/v1")


async def _garbage(ctx: AppContext, user: TestUser) -> str:
    return "axat_" + "A" * 43


async def _over_long(ctx: AppContext, user: TestUser) -> str:
    return user.token + "x" * 600


async def _altered(ctx: AppContext, user: TestUser) -> str:
    return user.token[:-1] + ("A" if user.token[-1] != "A" else "B")


async def _sql_like(ctx: AppContext, user: TestUser) -> str:
    """The seed built its lookup filter from the token text; this one rewrote the query there."""
    return "x' || user.id != '' || token='"


BAD_TOKENS = [
    pytest.param(_garbage, id="unknown"),
    pytest.param(_altered, id="altered"),
    pytest.param(_over_long, id="over-long"),
    pytest.param(_sql_like, id="filter-injection"),
    pytest.param(_expired, id="expired"),
    pytest.param(_revoked, id="revoked"),
    pytest.param(_for_mcp, id="audience-mcp"),
    pytest.param(_for_another_api, id="audience-elsewhere"),
    pytest.param(_no_audience, id="no-audience"),
]


@routes
@pytest.mark.parametrize("make_bad_token", BAD_TOKENS)
async def test_a_token_that_is_not_live_for_this_api_is_a_401(
    ctx: AppContext,
    api: httpx.AsyncClient,
    user: TestUser,
    method: str,
    path: str,
    kind: Any,
    scope: str,
    make_bad_token: Any,
) -> None:
    token = await make_bad_token(ctx, user)
    response = await call(api, user, method, path, kind, bearer(token))
    assert_error(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@routes
async def test_a_token_without_the_scope_is_a_403_naming_it(
    ctx: AppContext, api: httpx.AsyncClient, user: TestUser, method: str, path: str, kind: Any, scope: str
) -> None:
    token = await make_token(ctx, user.id, [s for s in SCOPES if s != scope])
    response = await call(api, user, method, path, kind, bearer(token))
    body = assert_error(response, 403)
    assert scope in body["message"]
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and f'scope="{scope}"' in challenge


async def test_a_write_needs_its_own_scope_not_the_read_one(
    ctx: AppContext, api: httpx.AsyncClient, user: TestUser
) -> None:
    read_only = await make_token(ctx, user.id, ["items:read", "tags:read", "clients:read", "profile:read"])
    response = await api.post(f"{API}/user/items", json={"name": "x"}, headers=bearer(read_only))
    assert_error(response, 403)
    listed = await api.get(f"{API}/user/items", headers=bearer(user))
    assert listed.json()["totalItems"] == 0


async def test_the_scheme_name_is_case_insensitive(api: httpx.AsyncClient, user: TestUser) -> None:
    """RFC 7235 section 2.1: auth-scheme is case-insensitive."""
    response = await api.get(f"{API}/user/profile", headers={"Authorization": f"bearer {user.token}"})
    assert response.status_code == 200
