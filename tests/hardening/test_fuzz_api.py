"""Bad input fuzzing of the REST API: schemathesis over its own OpenAPI document, on both databases.

Every operation of ``/openapi.json`` gets schemathesis' generated cases (schema examples, its
coverage phase of boundary and negative values, then random valid and invalid data), sent with a
real bearer token to a real server. Guarantees checked on every response:

- never a 5xx (``not_a_server_error``);
- invalid input is refused with a 4xx (``negative_data_rejection``);
- every error is the API's one JSON shape ``{"status", "message", "data"}`` with ``status``
  equal to the HTTP status (``error_is_json_body`` below).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection
from starlette.testclient import TestClient

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.db.migrate import migrate
from tests.conftest import make_settings
from tests.hardening.thread_server import serve_in_thread
from tests.support.databases import database
from tests.support.factories import make_user

FUZZ_EXAMPLES = 15
"""Random cases per record operation, on top of schemathesis' deterministic coverage cases."""
ACCOUNT_EXAMPLES = 5
"""Sign-up and login hash or verify an argon2 password on every call (tens of ms by design), so
they get fewer random cases; their coverage cases still run in full."""


def error_is_json_body(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """A 4xx/5xx answer is ``{"status": <the HTTP status>, "message": <text>, "data": {...}}``."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"error with content-type {content_type!r}"
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"error body is not JSON: {response.content[:200]!r}") from None
    assert isinstance(body, dict) and set(body) == {"status", "message", "data"}, f"error body {body!r}"
    assert body["status"] == response.status_code, f"status {body['status']} in a {response.status_code} body"
    assert isinstance(body["message"], str) and body["message"].strip(), "empty error message"
    assert isinstance(body["data"], dict), "error data is not an object"
    return None


def _openapi_document() -> dict[str, Any]:
    """The REST API's OpenAPI document as the auth app serves it.

    Read once at collection (schemathesis builds one test per operation from it) through an
    in-process client without lifespan, so no database is opened; the cases are then sent to a
    real server with its own database (``fuzz_server``).
    """
    settings = make_settings("postgresql+asyncpg://127.0.0.1:9/never-connected", Path("never-written"))
    client = TestClient(create_auth_app(AppContext.from_settings(settings)))
    response = client.get("/openapi.json")
    response.raise_for_status()
    return dict(response.json())


schema = schemathesis.openapi.from_dict(_openapi_document())


@dataclass
class FuzzTarget:
    url: str
    headers: dict[str, str]


@pytest.fixture(scope="module")
async def fuzz_server(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FuzzTarget]:
    """A real auth + API server over a database of its own, and a user's token with every scope.

    Its own database, because the fuzzer's failed logins lock 127.0.0.1 in the login throttle
    for up to 15 minutes; in the shared test database that would lock other tests out.
    """
    folder = tmp_path_factory.mktemp(f"fuzz-{db_kind}")
    async with database(db_kind, folder) as url:
        settings = make_settings(url, folder)
        setup = AppContext.from_settings(settings)
        try:
            await migrate(setup.db.engine)
        finally:
            await setup.close()
        with serve_in_thread(settings, create_auth_app) as server:
            owner = server.call(make_user)
            yield FuzzTarget(server.url, {"Authorization": f"Bearer {owner.token}"})


CHECKS = [not_a_server_error, negative_data_rejection, error_is_json_body]


@schema.exclude(path_regex="^/api/v1/auth/").parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None)
def test_rest_api_survives_bad_input(case: schemathesis.Case, fuzz_server: FuzzTarget) -> None:
    case.call_and_validate(base_url=fuzz_server.url, headers=fuzz_server.headers, checks=CHECKS)


@schema.include(path_regex="^/api/v1/auth/").parametrize()
@settings(max_examples=ACCOUNT_EXAMPLES, deadline=None, derandomize=True, database=None)
def test_account_endpoints_survive_bad_input(case: schemathesis.Case, fuzz_server: FuzzTarget) -> None:
    case.call_and_validate(base_url=fuzz_server.url, checks=CHECKS)


def _response(status: int, content_type: str, body: bytes) -> schemathesis.Response:
    raw = httpx.Response(
        status, headers={"content-type": content_type}, content=body, request=httpx.Request("GET", "http://x/")
    )
    raw.elapsed = timedelta(0)
    return schemathesis.Response.from_any(raw)


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (500, "text/plain", b"Internal Server Error"),
        (404, "text/html", b"<h1>Not Found</h1>"),
        (400, "application/json", b'{"detail": "bad"}'),
        (403, "application/json", b'{"status": 400, "message": "no", "data": {}}'),
        (401, "application/json", b'{"status": 401, "message": " ", "data": {}}'),
        (422, "application/json", b'{"status": 422, "message": "bad", "data": []}'),
    ],
    ids=["plain-text", "html", "other-shape", "status-mismatch", "blank-message", "data-not-object"],
)
def test_the_error_check_catches_malformed_errors(status: int, content_type: str, body: bytes) -> None:
    """The custom check fails on each way an error body can be wrong (so the fuzz test can fail)."""
    response = _response(status, content_type, body)
    with pytest.raises(AssertionError):
        error_is_json_body(None, response, None)  # type: ignore[arg-type]


def test_the_error_check_accepts_the_api_shape() -> None:
    response = _response(404, "application/json", b'{"status": 404, "message": "item not found", "data": {}}')
    assert error_is_json_body(None, response, None) is None  # type: ignore[arg-type]
