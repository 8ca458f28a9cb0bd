"""The auth service's REST surface as a whole: OpenAPI at /docs, and JSON errors for the unexpected."""

from __future__ import annotations

import httpx
import pytest

from tests.auth_service.conftest import API, KINDS, assert_error, bearer
from tests.support.factories import TestUser


async def test_openapi_describes_every_route(api: httpx.AsyncClient) -> None:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths[f"{API}/user/profile"]) == {"get"}
    assert set(paths[f"{API}/auth/signup"]) == {"post"}
    assert set(paths[f"{API}/auth/login"]) == {"post"}
    for kind in KINDS:
        assert set(paths[kind.path]) == {"get", "post"}
        assert set(paths[f"{kind.path}/{{record_id}}"]) == {"get", "patch", "delete"}
    list_parameters = {p["name"] for p in paths[f"{API}/user/items"]["get"]["parameters"]}
    assert {"page", "perPage", "q"} <= list_parameters


async def test_docs_are_served(api: httpx.AsyncClient) -> None:
    response = await api.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/openapi.json" in response.text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", f"{API}/user/nothing", 404, id="unknown-route"),
        pytest.param("GET", f"{API}/users/profile", 404, id="near-miss"),
        pytest.param("PUT", f"{API}/user/items", 405, id="put-on-a-list"),
        pytest.param("POST", f"{API}/user/profile", 405, id="post-to-profile"),
        pytest.param("DELETE", f"{API}/user/items", 405, id="delete-a-whole-list"),
    ],
)
async def test_unknown_routes_and_methods_answer_json(
    api: httpx.AsyncClient, user: TestUser, method: str, path: str, status: int
) -> None:
    assert_error(await api.request(method, path, headers=bearer(user)), status)
