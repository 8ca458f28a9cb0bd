"""Access control: every REST route and every MCP tool, tried with another user's ids and with a
token lacking the scope it needs.

The tables below list every route and tool with the scope it needs; ``test_*_table_is_complete``
fails when a route or tool is added without a row, so nothing escapes these checks.

| surface | attempt | what must happen |
|---|---|---|
| REST, every route | a token with every scope but the one needed | 403, `WWW-Authenticate: Bearer error="insufficient_scope", scope="<needed>"`; nothing changes |
| REST, every route | no token; a token for the MCP server (another audience) | 401 |
| REST, every route naming a record | another user's record id | 404, word for word what a nonexistent id gets; the record is unchanged |
| REST, create/update | another user's tag id in `tags`/`accessTags` | 400 naming the field; nothing stored |
| REST, lists | searching for another user's record by name | not listed |
| MCP, every tool (streamable HTTP) | a token with every scope but the one needed | 403 `insufficient_scope` naming it; nothing changes |
| MCP, every tool naming a record | another user's id | a tool error "... not found", as for a nonexistent id; unchanged |
| MCP, create/update | another user's tag id | a tool error; nothing stored |
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from axiom_mcp.auth_service.rest_api.files import build_files_router
from axiom_mcp.auth_service.rest_api.routes import build_api_router
from axiom_mcp.app import create_auth_app, create_mcp_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import files, records
from axiom_mcp.data.kinds import CLIENTS, ITEMS, TAGS
from axiom_mcp.data.schemas import ClientCreate, ItemCreate, PageQuery, TagCreate
from axiom_mcp.settings import SCOPES
from tests.mcp_server import rpc
from tests.mcp_server.clients import connect
from tests.support.factories import TestUser, make_token, make_user
from tests.support.servers import free_port, running


@dataclass
class Surfaces:
    ctx: AppContext
    api: httpx.AsyncClient
    mcp_url: str
    mcp: httpx.AsyncClient


@pytest.fixture(scope="module")
async def surfaces(ctx: AppContext) -> AsyncIterator[Surfaces]:
    port = free_port()
    settings = ctx.settings.model_copy(update={"mcp_url": f"http://127.0.0.1:{port}", "mcp_port": port})
    shared = AppContext(settings=settings, db=ctx.db)
    transport = httpx.ASGITransport(app=create_auth_app(shared))
    async with (
        running(create_mcp_app(shared), port) as mcp_url,
        httpx.AsyncClient(transport=transport, base_url=settings.public_url) as api,
        httpx.AsyncClient(base_url=mcp_url, timeout=15) as mcp,
    ):
        yield Surfaces(shared, api, mcp_url, mcp)


@dataclass
class Victim:
    user: TestUser
    tag: str
    item: str
    client: str
    file: str

    def id_of(self, kind: str) -> str:
        return {"item": self.item, "client": self.client, "tag": self.tag, "file": self.file}[kind]


async def _victim(ctx: AppContext) -> Victim:
    user = await make_user(ctx, name="Victim")
    async with ctx.db.session() as session:
        tag = await records.create_record(TAGS, session, user.id, TagCreate(name="victim-tag"))
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="victim-item", content="secret",
                                                                      tags=[tag.id]))
        client = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="victim-client",
                                                                            accessTags=[tag.id]))

    async def content() -> AsyncIterator[bytes]:
        yield b"secret file"

    file = await files.add_file(ctx.db, ctx.blobs, ctx.settings, user.id, item.id, "secret.txt", content())
    return Victim(user, tag.id, item.id, client.id, file.id)


async def _snapshot(ctx: AppContext, victim: Victim) -> dict[str, Any]:
    """Everything the victim owns, to compare before and after an attempt."""
    async with ctx.db.session() as session:
        return {
            "items": await records.list_records(ITEMS, session, victim.user.id, PageQuery(perPage=100)),
            "clients": await records.list_records(CLIENTS, session, victim.user.id, PageQuery(perPage=100)),
            "tags": await records.list_records(TAGS, session, victim.user.id, PageQuery(perPage=100)),
            "files": await files.storage_usage(session, ctx.settings, victim.user.id),
        }


async def _attacker_counts(ctx: AppContext, user_id: str) -> tuple[int, int, int]:
    async with ctx.db.session() as session:
        return (
            (await records.list_records(ITEMS, session, user_id, PageQuery())).totalItems,
            (await records.list_records(CLIENTS, session, user_id, PageQuery())).totalItems,
            (await records.list_records(TAGS, session, user_id, PageQuery())).totalItems,
        )


def _all_but(scope: str) -> list[str]:
    return [s for s in SCOPES if s != scope]


# --- REST ------------------------------------------------------------------------------------------

# (method, path, scopes needed (space-separated), the kind whose id goes in {record_id}, body)
REST: list[tuple[str, str, str, str | None, dict[str, Any] | None]] = [
    ("GET", "/api/v1/user/profile", "profile:read", None, None),
    ("GET", "/api/v1/user/clients/{record_id}/items", "clients:read items:read", "client", None),
    *[
        row
        for kind, plural, body in (
            ("item", "items", {"name": "n", "content": "c"}),
            ("client", "clients", {"name": "n"}),
            ("tag", "tags", {"name": "n"}),
        )
        for row in (
            ("GET", f"/api/v1/user/{plural}", f"{plural}:read", None, None),
            ("POST", f"/api/v1/user/{plural}", f"{plural}:write", None, body),
            ("GET", f"/api/v1/user/{plural}/{{record_id}}", f"{plural}:read", kind, None),
            ("PATCH", f"/api/v1/user/{plural}/{{record_id}}", f"{plural}:write", kind, body),
            ("DELETE", f"/api/v1/user/{plural}/{{record_id}}", f"{plural}:write", kind, None),
        )
    ],
    ("GET", "/api/v1/user/items/{record_id}/files", "items:read", "item", None),
    ("GET", "/api/v1/user/files/{record_id}", "items:read", "file", None),
    ("DELETE", "/api/v1/user/files/{record_id}", "items:write", "file", None),
]
REST_IDS = [f"{method}-{path.removeprefix('/api/v1/user/').replace('/{record_id}', '-id').replace('/', '-')}"
            for method, path, *_ in REST]
PUBLIC_API_ROUTES = {("POST", "/api/v1/auth/signup"), ("POST", "/api/v1/auth/login")}
"""Routes that need no token (they are how a token is obtained); throttled and fuzzed elsewhere."""
MULTIPART_ROUTES = {("POST", "/api/v1/user/items/{item_id}/files")}
"""Uploads (not JSON): their scopes and owners are checked in tests/auth_service/test_files.py."""


def test_the_rest_table_is_complete() -> None:
    routes = {
        (method, route.path)
        for route in [*build_api_router().routes, *build_files_router().routes]
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    named = {(method, path.replace("{item_id}", "{record_id}").replace("{file_id}", "{record_id}"))
             for method, path in routes - MULTIPART_ROUTES}
    assert named == {(method, path) for method, path, *_ in REST} | PUBLIC_API_ROUTES


async def _rest(surfaces: Surfaces, method: str, path: str, token: str | None, record_id: str = "",
                body: dict[str, Any] | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await surfaces.api.request(method, path.replace("{record_id}", record_id), headers=headers, json=body)


@pytest.mark.parametrize(("method", "path", "scope", "kind", "body"), REST, ids=REST_IDS)
async def test_rest_refuses_a_token_without_the_scope(
    surfaces: Surfaces, method: str, path: str, scope: str, kind: str | None, body: dict[str, Any] | None
) -> None:
    owner = await _victim(surfaces.ctx)
    record_id = owner.id_of(kind) if kind else ""
    before = await _snapshot(surfaces.ctx, owner)
    for needed in scope.split():
        lacking = await make_token(surfaces.ctx, owner.user.id, _all_but(needed))

        response = await _rest(surfaces, method, path, lacking, record_id, body)

        assert response.status_code == 403, response.text
        assert response.json()["status"] == 403
        challenge = response.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in challenge and f'scope="{needed}"' in challenge
        assert await _snapshot(surfaces.ctx, owner) == before

    only = await make_token(surfaces.ctx, owner.user.id, scope.split())  # control: those scopes alone are enough
    assert (await _rest(surfaces, method, path, only, record_id, body)).status_code < 300


@pytest.mark.parametrize(("method", "path", "scope", "kind", "body"), REST, ids=REST_IDS)
async def test_rest_refuses_no_token_and_another_audiences_token(
    surfaces: Surfaces, method: str, path: str, scope: str, kind: str | None, body: dict[str, Any] | None
) -> None:
    owner = await _victim(surfaces.ctx)
    record_id = owner.id_of(kind) if kind else ""
    for_mcp = await make_token(surfaces.ctx, owner.user.id, list(SCOPES), resource=surfaces.ctx.settings.mcp_resource)
    # The original built its token lookup by string: a crafted token rewrote the query.
    for token in (None, for_mcp, "axat_" + secrets.token_urlsafe(32), "' OR '1'='1", "axat_%", '" OR ""="'):
        response = await _rest(surfaces, method, path, token, record_id, body)
        assert response.status_code == 401, (token, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")


RECORD_ROUTES = [(r, i) for r, i in zip(REST, REST_IDS, strict=True) if r[3] is not None]


@pytest.mark.parametrize(("method", "path", "scope", "kind", "body"), [r for r, _ in RECORD_ROUTES],
                         ids=[i for _, i in RECORD_ROUTES])
async def test_rest_treats_another_users_id_as_nonexistent(
    surfaces: Surfaces, method: str, path: str, scope: str, kind: str, body: dict[str, Any] | None
) -> None:
    victim = await _victim(surfaces.ctx)
    attacker = await make_user(surfaces.ctx, name="Attacker")
    before = await _snapshot(surfaces.ctx, victim)
    foreign_id = victim.id_of(kind)
    unknown_id = "z" * len(foreign_id)

    foreign = await _rest(surfaces, method, path, attacker.token, foreign_id, body)
    unknown = await _rest(surfaces, method, path, attacker.token, unknown_id, body)

    assert foreign.status_code == unknown.status_code == 404, foreign.text
    assert foreign.json() == json.loads(unknown.text.replace(unknown_id, foreign_id)), "the two must read the same"
    assert await _snapshot(surfaces.ctx, victim) == before


TAG_FIELDS = [
    ("POST", "/api/v1/user/items", "tags", False),
    ("PATCH", "/api/v1/user/items/{record_id}", "tags", True),
    ("POST", "/api/v1/user/clients", "accessTags", False),
    ("PATCH", "/api/v1/user/clients/{record_id}", "accessTags", True),
]


@pytest.mark.parametrize(("method", "path", "field", "own_record"), TAG_FIELDS,
                         ids=[f"{m}-{p.split('/')[4]}" for m, p, *_ in TAG_FIELDS])
async def test_rest_refuses_another_users_tag(
    surfaces: Surfaces, method: str, path: str, field: str, own_record: bool
) -> None:
    """The original accepted another user's tag id when creating an item (a known defect)."""
    victim = await _victim(surfaces.ctx)
    attacker = await make_user(surfaces.ctx, name="Attacker")
    record_id = ""
    if own_record:
        kind = "items" if "items" in path else "clients"
        created = await _rest(surfaces, "POST", f"/api/v1/user/{kind}", attacker.token, body={"name": "mine"})
        record_id = created.json()["id"]
    counts = await _attacker_counts(surfaces.ctx, attacker.id)

    response = await _rest(surfaces, method, path, attacker.token, record_id, {"name": "x", field: [victim.tag]})

    assert response.status_code == 400, response.text
    assert field in response.json()["data"]
    assert await _attacker_counts(surfaces.ctx, attacker.id) == counts
    if own_record:
        mine = await _rest(surfaces, "GET", path, attacker.token, record_id)
        assert mine.json()[field] == [] and mine.json()["name"] == "mine"


@pytest.mark.parametrize("plural", ["items", "clients", "tags"])
async def test_rest_lists_never_show_another_users_records(surfaces: Surfaces, plural: str) -> None:
    victim = await _victim(surfaces.ctx)
    attacker = await make_user(surfaces.ctx, name="Attacker")
    kind = plural[:-1]
    response = await _rest(surfaces, "GET", f"/api/v1/user/{plural}?q=victim&perPage=100", attacker.token)
    assert response.status_code == 200
    assert victim.id_of(kind) not in {r["id"] for r in response.json()["items"]}
    profile = await _rest(surfaces, "GET", "/api/v1/user/profile", attacker.token)
    assert profile.json()["id"] == attacker.id


# --- MCP -------------------------------------------------------------------------------------------

# tool -> (scope needed, the kind whose id it takes, other arguments)
MCP_TOOLS: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "get_user_profile": ("profile:read", None, {}),
    **{
        name: spec
        for kind, plural in (("item", "items"), ("client", "clients"), ("tag", "tags"))
        for name, spec in (
            (f"get_user_{plural}", (f"{plural}:read", None, {})),
            (f"get_user_{kind}", (f"{plural}:read", kind, {})),
            (f"create_user_{kind}", (f"{plural}:write", None, {"name": "n"})),
            (f"update_user_{kind}", (f"{plural}:write", kind, {"name": "n"})),
            (f"delete_user_{kind}", (f"{plural}:write", kind, {})),
        )
    },
    "add_user_item_file": ("items:write", None, {"item_id": "<item>", "name": "n.txt", "content_base64": "bg=="}),
    "delete_user_item_file": ("items:write", "file", {}),
    "search": ("items:read", None, {"query": "x"}),
    "fetch": ("items:read", "item", {}),
}


async def test_the_mcp_table_is_complete(surfaces: Surfaces) -> None:
    owner = await make_user(surfaces.ctx)
    token = await make_token(surfaces.ctx, owner.id, list(SCOPES), resource=surfaces.ctx.settings.mcp_resource)
    async with connect(surfaces.mcp_url, token, "streamable-2026-07-28") as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
    assert listed == set(MCP_TOOLS)


def _arguments(tool: str, victim: Victim) -> dict[str, Any]:
    _, kind, extra = MCP_TOOLS[tool]
    extra = {name: victim.item if value == "<item>" else value for name, value in extra.items()}
    return {**({"id": victim.id_of(kind)} if kind else {}), **extra}


@pytest.mark.parametrize("tool", list(MCP_TOOLS))
async def test_mcp_refuses_a_token_without_the_scope(surfaces: Surfaces, tool: str) -> None:
    scope = MCP_TOOLS[tool][0]
    owner = await _victim(surfaces.ctx)
    before = await _snapshot(surfaces.ctx, owner)
    resource = surfaces.ctx.settings.mcp_resource
    lacking = await make_token(surfaces.ctx, owner.user.id, _all_but(scope), resource=resource)

    body, headers = rpc.modern_call(tool, _arguments(tool, owner), lacking)
    response = await surfaces.mcp.post("/mcp", json=body, headers=headers)

    assert response.status_code == 403, response.text
    params = rpc.challenge(response.headers["www-authenticate"])
    assert (params["error"], params["scope"]) == ("insufficient_scope", scope)
    assert await _snapshot(surfaces.ctx, owner) == before

    only = await make_token(surfaces.ctx, owner.user.id, [scope], resource=resource)
    async with connect(surfaces.mcp_url, only, "streamable-2026-07-28") as client:  # control
        assert not (await client.call_tool(tool, _arguments(tool, owner))).is_error


@pytest.mark.parametrize("tool", [name for name, (_, kind, _) in MCP_TOOLS.items() if kind])
async def test_mcp_treats_another_users_id_as_nonexistent(surfaces: Surfaces, tool: str) -> None:
    victim = await _victim(surfaces.ctx)
    attacker = await make_user(surfaces.ctx, name="Attacker")
    before = await _snapshot(surfaces.ctx, victim)
    token = await make_token(surfaces.ctx, attacker.id, list(SCOPES), resource=surfaces.ctx.settings.mcp_resource)
    arguments = _arguments(tool, victim)
    foreign_id = arguments["id"]
    unknown_id = "z" * len(foreign_id)

    async with connect(surfaces.mcp_url, token, "streamable-2026-07-28") as client:
        foreign = await client.call_tool(tool, arguments)
        unknown = await client.call_tool(tool, {**arguments, "id": unknown_id})

    assert foreign.is_error and unknown.is_error
    text = foreign.content[0].text  # type: ignore[union-attr]
    assert "not found" in text
    assert text == unknown.content[0].text.replace(unknown_id, foreign_id)  # type: ignore[union-attr]
    assert await _snapshot(surfaces.ctx, victim) == before


@pytest.mark.parametrize(
    ("tool", "field", "own_record"),
    [("create_user_item", "tags", False), ("update_user_item", "tags", True),
     ("create_user_client", "accessTags", False), ("update_user_client", "accessTags", True)],
)
async def test_mcp_refuses_another_users_tag(surfaces: Surfaces, tool: str, field: str, own_record: bool) -> None:
    victim = await _victim(surfaces.ctx)
    attacker = await make_user(surfaces.ctx, name="Attacker")
    token = await make_token(surfaces.ctx, attacker.id, list(SCOPES), resource=surfaces.ctx.settings.mcp_resource)
    async with connect(surfaces.mcp_url, token, "streamable-2026-07-28") as client:
        arguments: dict[str, Any] = {"name": "x", field: [victim.tag]}
        if own_record:
            kind = tool.removeprefix("update_user_")
            created = await client.call_tool(f"create_user_{kind}", {"name": "mine"})
            arguments["id"] = created.structured_content["id"]  # type: ignore[index]
        counts = await _attacker_counts(surfaces.ctx, attacker.id)
        result = await client.call_tool(tool, arguments)
    assert result.is_error and "unknown tag id" in result.content[0].text  # type: ignore[union-attr]
    assert await _attacker_counts(surfaces.ctx, attacker.id) == counts
