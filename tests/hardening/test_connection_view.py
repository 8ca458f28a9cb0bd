"""A connection restricted to a client profile sees and changes only what the profile allows
(issue 13): every REST route and every MCP tool, in a table that fails when a route or tool has
no row (``test_*_table_is_complete``), on both databases, MCP through the real SDK client.

The world of each row: a person with tags ``work`` and ``home``, items tagged work (``w``), home
(``h``), both (``wh``) and none (``u``), and a client profile ``app`` whose access tag is work; an
OAuth app's consent restricted to that profile. What the app must get:

| surface | what | outcome |
|---|---|---|
| items: list, search, get | only ``w`` and ``wh``, with only the tag work shown | others: "not found", word for word as an id that never existed |
| items: search, tag filter | a search finds nothing by another item's words or a tag outside the view (home); ``tag=work`` lists ``w`` and ``wh``, ``tag=home`` (name or id) is refused naming ``tag``, as a tag that never existed |
| items: create | carries work; naming home | 400 / tool error naming ``tags`` |
| items: update, delete | ``w``, ``wh`` (``wh`` keeps home); ``h``, ``u`` not found; ``tags: []`` refused naming ``tags``, saying why |
| tags | list and get only work; create, rename, delete refused (403 / tool error) |
| client profiles | REST: 403 ``out_of_view`` on every route (the routes exist for the person's own tokens; 403 says why); MCP: not in tools/list, refused if called |
| API-token routes | 403: only the person's own API token manages them |

Nothing changes on a refusal. ``test_a_change_of_profile_applies_on_the_next_call`` holds the
Connected apps promise: a changed profile applies to a live connection within the cache bound.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from axiom_mcp.app import create_auth_app, create_mcp_app
from axiom_mcp.auth_service.rest_api.api_tokens import build_api_token_router
from axiom_mcp.auth_service.rest_api.routes import build_api_router
from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import CLIENTS, ITEMS, TAGS
from axiom_mcp.data.schemas import ClientCreate, ClientUpdate, ItemCreate, PageQuery, TagCreate
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.db.tables import OAuthConsent
from axiom_mcp.mcp_server.tools import build_tools
from axiom_mcp.settings import SCOPES
from tests.mcp_server.clients import TRANSPORTS, connect
from tests.support.factories import make_token, make_user
from tests.support.servers import free_port, running

APP = "https://chatgpt.example/oauth/client.json"
CACHE_SECONDS = 0.3
"""The token and view cache bound of these servers (a change applies within it)."""


@dataclass
class Surfaces:
    ctx: AppContext
    api: httpx.AsyncClient
    mcp_url: str


@pytest.fixture(scope="module")
async def surfaces(ctx: AppContext) -> AsyncIterator[Surfaces]:
    port = free_port()
    settings = ctx.settings.model_copy(update={
        "mcp_url": f"http://127.0.0.1:{port}", "mcp_port": port, "token_cache_seconds": CACHE_SECONDS,
    })
    shared = AppContext(settings=settings, db=ctx.db)
    transport = httpx.ASGITransport(app=create_auth_app(shared))
    try:
        async with (
            running(create_mcp_app(shared), port) as mcp_url,
            httpx.AsyncClient(transport=transport, base_url=settings.public_url) as api,
        ):
            yield Surfaces(shared, api, mcp_url)
    finally:
        await shared.activity.close()  # its last batch written before the database goes


@dataclass
class World:
    user_id: str
    ids: dict[str, str] = field(default_factory=dict)
    """work, home (tags); w, h, wh, u (items); app, other (client profiles)."""
    api_token: str = ""
    mcp_token: str = ""
    own_token: str = ""

    def names(self, ids: list[str]) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id.get(i, i) for i in ids}


async def _world(surfaces: Surfaces) -> World:
    ctx = surfaces.ctx
    user = await make_user(ctx, name="Viewer")
    world = World(user.id, own_token=user.token)
    async with ctx.db.session() as session:
        for name in ("work", "home"):
            world.ids[name] = (await records.create_record(TAGS, session, user.id, TagCreate(name=name))).id
        for name, tags in (("w", ["work"]), ("h", ["home"]), ("wh", ["work", "home"]), ("u", [])):
            item = ItemCreate(name=f"note {name}", content=f"text {name}", tags=[world.ids[t] for t in tags])
            world.ids[name] = (await records.create_record(ITEMS, session, user.id, item)).id
        for name, tag in (("app", "work"), ("other", "home")):
            profile = ClientCreate(name=f"profile {name}", accessTags=[world.ids[tag]])
            world.ids[name] = (await records.create_record(CLIENTS, session, user.id, profile)).id
        session.add(OAuthConsent(user_id=user.id, client_id=APP, scopes=" ".join(SCOPES), restricted=True,
                                 profile_id=world.ids["app"]))
    world.api_token = await make_token(ctx, user.id, list(SCOPES), client_id=APP)
    world.mcp_token = await make_token(ctx, user.id, list(SCOPES), client_id=APP, resource=ctx.settings.mcp_resource)
    return world


async def _everything(ctx: AppContext, user_id: str) -> dict[str, Any]:
    """All the person has (as the person sees it), to compare before and after an attempt."""
    async with ctx.db.session() as session:
        return {
            kind.many: (await records.list_records(kind, session, user_id, PageQuery(perPage=100))).model_dump()
            for kind in (ITEMS, CLIENTS, TAGS)
        }


async def _item_tags(ctx: AppContext, world: World, key: str) -> set[str]:
    async with ctx.db.session() as session:
        return world.names((await records.get_record(ITEMS, session, world.user_id, world.ids[key])).tags)


def _filled(value: Any, world: World) -> Any:
    """``$name`` in a row's body or arguments replaced by that record's id."""
    if isinstance(value, str) and value.startswith("$"):
        return world.ids[value[1:]]
    if isinstance(value, list):
        return [_filled(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, world) for k, v in value.items()}
    return value


# --- REST ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rest:
    method: str
    path: str
    target: str | None = None
    """The record (a world key) in the path's ``{record_id}``/``{token_id}``."""
    body: dict[str, Any] | None = None
    status: int = 200
    sees: frozenset[str] | None = None
    """A list's records (world keys; ``new``: one it created)."""
    tags: frozenset[str] | None = None
    """A written item's tags afterwards (as the person sees them)."""
    field: str | None = None
    """The field a 400 names."""
    changes: bool = False
    """Whether the person's records may change (a refusal never changes anything)."""


def _rest_rows() -> list[tuple[str, Rest]]:
    items, tags, clients = "/api/v1/user/items", "/api/v1/user/tags", "/api/v1/user/clients"
    one = "{record_id}"
    seen, work = frozenset({"w", "wh"}), frozenset({"work"})
    rows = [
        ("profile", Rest("GET", "/api/v1/user/profile")),
        ("items-list", Rest("GET", items, sees=seen)),
        ("items-search", Rest("GET", items + "?q=note", sees=seen)),
        ("items-search-by-a-hidden-tag", Rest("GET", items + "?q=home", sees=frozenset())),
        ("items-search-by-a-hidden-word", Rest("GET", items + "?q=text+h", sees=frozenset())),
        ("items-tag-filter", Rest("GET", items + "?tag=WORK&sort=name", sees=seen)),
        ("items-tag-filter-hidden-tag", Rest("GET", items + "?tag=home", status=400, field="tag")),
        ("items-tag-filter-hidden-tag-id", Rest("GET", items + "?tag=$home", status=400, field="tag")),
        ("item-get-work", Rest("GET", f"{items}/{one}", "w", sees=frozenset({"w"}))),
        ("item-get-both-shows-work-only", Rest("GET", f"{items}/{one}", "wh", sees=frozenset({"wh"}))),
        ("item-get-home", Rest("GET", f"{items}/{one}", "h", status=404)),
        ("item-get-untagged", Rest("GET", f"{items}/{one}", "u", status=404)),
        ("item-create-carries-work", Rest("POST", items, body={"name": "new"}, status=201, tags=work, changes=True)),
        ("item-create-naming-work", Rest("POST", items, body={"name": "new", "tags": ["$work"]}, status=201, tags=work,
                                         changes=True)),
        ("item-create-naming-home", Rest("POST", items, body={"name": "new", "tags": ["$home"]}, status=400,
                                         field="tags")),
        ("item-update-work", Rest("PATCH", f"{items}/{one}", "w", {"name": "renamed"}, tags=work, changes=True)),
        ("item-update-both-keeps-home", Rest("PATCH", f"{items}/{one}", "wh", {"tags": ["$work"]},
                                             tags=frozenset({"work", "home"}), changes=True)),
        ("item-update-out-of-view", Rest("PATCH", f"{items}/{one}", "w", {"tags": []}, status=400, field="tags")),
        ("item-update-to-home", Rest("PATCH", f"{items}/{one}", "w", {"tags": ["$home"]}, status=400, field="tags")),
        ("item-update-home", Rest("PATCH", f"{items}/{one}", "h", {"name": "x"}, status=404)),
        ("item-update-untagged", Rest("PATCH", f"{items}/{one}", "u", {"name": "x"}, status=404)),
        ("item-delete-work", Rest("DELETE", f"{items}/{one}", "w", status=204, changes=True)),
        ("item-delete-home", Rest("DELETE", f"{items}/{one}", "h", status=404)),
        ("item-delete-untagged", Rest("DELETE", f"{items}/{one}", "u", status=404)),
        ("tags-list", Rest("GET", tags, sees=work)),
        ("tag-get-work", Rest("GET", f"{tags}/{one}", "work", sees=work)),
        ("tag-get-home", Rest("GET", f"{tags}/{one}", "home", status=404)),
        ("tag-create", Rest("POST", tags, body={"name": "mine"}, status=403)),
        ("tag-rename", Rest("PATCH", f"{tags}/{one}", "work", {"name": "w2"}, status=403)),
        ("tag-delete", Rest("DELETE", f"{tags}/{one}", "work", status=403)),
        ("clients-list", Rest("GET", clients, status=403)),
        ("client-get", Rest("GET", f"{clients}/{one}", "app", status=403)),
        ("client-create", Rest("POST", clients, body={"name": "wider", "accessTags": ["$home"]}, status=403)),
        ("client-widen-own", Rest("PATCH", f"{clients}/{one}", "app", {"accessTags": ["$work", "$home"]}, status=403)),
        ("client-delete", Rest("DELETE", f"{clients}/{one}", "app", status=403)),
        ("client-items", Rest("GET", f"{clients}/{one}/items", "other", status=403)),
        ("api-tokens-list", Rest("GET", "/api/v1/auth/tokens", status=403)),
        ("api-token-revoke", Rest("DELETE", "/api/v1/auth/tokens/{token_id}", "app", status=403)),
        ("api-logout", Rest("POST", "/api/v1/auth/logout", status=403)),
    ]
    return rows


REST_ROWS = _rest_rows()
PUBLIC_API_ROUTES = {("POST", "/api/v1/auth/signup"), ("POST", "/api/v1/auth/login")}


def test_the_rest_table_is_complete() -> None:
    routes = {
        (method, route.path)
        for router in (build_api_router(), build_api_token_router())
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    covered = {(row.method, row.path.split("?")[0]) for _, row in REST_ROWS}
    assert routes - PUBLIC_API_ROUTES == covered


def _filled_query(path: str, world: World) -> str:
    """``$name`` in a path's query replaced by that record's id."""
    base, _, query = path.partition("?")
    if not query:
        return path
    return base + "?" + "&".join(
        f"{key}={_filled(value, world)}" for key, value in (part.split("=", 1) for part in query.split("&")))


def _path(row: Rest, world: World, record_id: str | None = None) -> str:
    target = record_id if record_id is not None else (world.ids[row.target] if row.target else "")
    return row.path.replace("{record_id}", target).replace("{token_id}", target)


@pytest.mark.parametrize("row", [r for _, r in REST_ROWS], ids=[i for i, _ in REST_ROWS])
async def test_rest_for_a_restricted_connection(surfaces: Surfaces, row: Rest) -> None:
    world = await _world(surfaces)
    before = await _everything(surfaces.ctx, world.user_id)
    headers = {"Authorization": f"Bearer {world.api_token}"}

    response = await surfaces.api.request(row.method, _filled_query(_path(row, world), world), headers=headers,
                                          json=_filled(row.body, world))

    assert response.status_code == row.status, response.text
    body = response.json() if response.content else None
    if row.status == 404:  # word for word what an id that never existed gets
        unknown = "z" * 15
        other = await surfaces.api.request(row.method, _path(row, world, unknown), headers=headers,
                                           json=_filled(row.body, world))
        assert other.status_code == 404
        assert body == json.loads(other.text.replace(unknown, world.ids[row.target or ""]))
    if row.status == 403:
        assert body["status"] == 403 and body["message"]
    if row.field is not None:
        assert row.field in body["data"], body
    if row.sees is not None:
        listed = body["items"] if "items" in body else [body]
        assert world.names([r["id"] for r in listed]) == row.sees
        for record in listed:
            assert world.names(record.get("tags", [])) <= {"work"}  # never a tag outside the view
    if row.tags is not None:
        created_or_changed = body["id"]
        world.ids.setdefault("new", created_or_changed)
        key = world.names([created_or_changed]).pop()
        assert await _item_tags(surfaces.ctx, world, key) == row.tags
        assert world.names(body["tags"]) == row.tags & {"work"}
    if not row.changes:
        assert await _everything(surfaces.ctx, world.user_id) == before


async def test_the_persons_own_token_sees_everything_and_what_the_app_sees(surfaces: Surfaces) -> None:
    """The person's API token is not narrowed by an app's profile; ``/clients/{id}/items`` shows
    exactly what an app restricted to that profile sees."""
    world = await _world(surfaces)
    own = {"Authorization": f"Bearer {world.own_token}"}
    listed = (await surfaces.api.get("/api/v1/user/items", headers=own)).json()
    assert world.names([r["id"] for r in listed["items"]]) == {"w", "h", "wh", "u"}
    assert (await surfaces.api.get("/api/v1/user/clients", headers=own)).json()["totalItems"] == 2

    as_app = (await surfaces.api.get(f"/api/v1/user/clients/{world.ids['app']}/items", headers=own)).json()
    app = (await surfaces.api.get("/api/v1/user/items", headers={"Authorization": f"Bearer {world.api_token}"})).json()
    assert as_app == app and world.names([r["id"] for r in as_app["items"]]) == {"w", "wh"}
    as_other = await surfaces.api.get(f"/api/v1/user/clients/{world.ids['other']}/items?q=note&perPage=1", headers=own)
    assert as_other.json()["totalItems"] == 2 and len(as_other.json()["items"]) == 1  # h, wh; paged

    stranger = await make_user(surfaces.ctx, name="Stranger")
    foreign = await surfaces.api.get(f"/api/v1/user/clients/{world.ids['app']}/items",
                                     headers={"Authorization": f"Bearer {stranger.token}"})
    assert foreign.status_code == 404
    for scope in ("clients:read", "items:read"):
        lacking = await make_token(surfaces.ctx, world.user_id, [s for s in SCOPES if s != scope],
                                   client_id=FIRST_PARTY_CLIENT_ID)
        refused = await surfaces.api.get(f"/api/v1/user/clients/{world.ids['app']}/items",
                                         headers={"Authorization": f"Bearer {lacking}"})
        assert refused.status_code == 403 and f'scope="{scope}"' in refused.headers["www-authenticate"]


# --- MCP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mcp:
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    """A text the tool error must contain (None: the call succeeds)."""
    sees: frozenset[str] | None = None
    tags: frozenset[str] | None = None
    changes: bool = False


def _mcp_rows() -> list[tuple[str, Mcp]]:
    seen, work = frozenset({"w", "wh"}), frozenset({"work"})
    not_found, no_clients = "not found", "cannot see or change clients"
    no_tag_changes = "not create, change or delete tags"
    return [
        ("profile", Mcp("get_user_profile")),
        ("items-list", Mcp("get_user_items", sees=seen)),
        ("items-search", Mcp("get_user_items", {"search": "note"}, sees=seen)),
        ("items-search-by-a-hidden-tag", Mcp("get_user_items", {"search": "home"}, sees=frozenset())),
        ("items-tag-filter", Mcp("get_user_items", {"tag": "$work", "sort": "-updated"}, sees=seen)),
        ("items-tag-filter-hidden-tag", Mcp("get_user_items", {"tag": "home"}, error="'tag'")),
        ("item-get-work", Mcp("get_user_item", {"id": "$w"}, sees=frozenset({"w"}))),
        ("item-get-both", Mcp("get_user_item", {"id": "$wh"}, sees=frozenset({"wh"}))),
        ("item-get-home", Mcp("get_user_item", {"id": "$h"}, error=not_found)),
        ("item-get-untagged", Mcp("get_user_item", {"id": "$u"}, error=not_found)),
        ("item-create", Mcp("create_user_item", {"name": "new"}, tags=work, changes=True)),
        ("item-create-naming-home", Mcp("create_user_item", {"name": "new", "tags": ["$home"]}, error="'tags'")),
        ("item-update-work", Mcp("update_user_item", {"id": "$w", "name": "renamed"}, tags=work, changes=True)),
        ("item-update-both-keeps-home", Mcp("update_user_item", {"id": "$wh", "tags": ["$work"]},
                                            tags=frozenset({"work", "home"}), changes=True)),
        ("item-update-out-of-view", Mcp("update_user_item", {"id": "$w", "tags": []},
                                        error="out of what this app can see")),
        ("item-update-home", Mcp("update_user_item", {"id": "$h", "name": "x"}, error=not_found)),
        ("item-delete-work", Mcp("delete_user_item", {"id": "$w"}, changes=True)),
        ("item-delete-home", Mcp("delete_user_item", {"id": "$h"}, error=not_found)),
        ("item-delete-untagged", Mcp("delete_user_item", {"id": "$u"}, error=not_found)),
        ("tags-list", Mcp("get_user_tags", sees=work)),
        ("tag-get-work", Mcp("get_user_tag", {"id": "$work"}, sees=work)),
        ("tag-get-home", Mcp("get_user_tag", {"id": "$home"}, error=not_found)),
        ("tag-create", Mcp("create_user_tag", {"name": "mine"}, error=no_tag_changes)),
        ("tag-rename", Mcp("update_user_tag", {"id": "$work", "name": "w2"}, error=no_tag_changes)),
        ("tag-delete", Mcp("delete_user_tag", {"id": "$work"}, error=no_tag_changes)),
        ("clients-list", Mcp("get_user_clients", error=no_clients)),
        ("client-get", Mcp("get_user_client", {"id": "$app"}, error=no_clients)),
        ("client-create", Mcp("create_user_client", {"name": "wider", "accessTags": ["$home"]}, error=no_clients)),
        ("client-widen-own", Mcp("update_user_client", {"id": "$app", "accessTags": ["$work", "$home"]},
                                 error=no_clients)),
        ("client-delete", Mcp("delete_user_client", {"id": "$app"}, error=no_clients)),
        ("file-add-work", Mcp("add_user_item_file", {"item_id": "$w", "name": "n.txt", "content_base64": "bg=="},
                              changes=True)),
        ("file-add-home", Mcp("add_user_item_file", {"item_id": "$h", "name": "n.txt", "content_base64": "bg=="},
                              error="no such item")),
        ("file-delete-unknown", Mcp("delete_user_item_file", {"id": "z" * 15}, error="no such file")),
        ("search", Mcp("search", {"query": "note"})),
        ("fetch-work", Mcp("fetch", {"id": "$w"})),
        ("fetch-home", Mcp("fetch", {"id": "$h"}, error=not_found)),
    ]


MCP_ROWS = _mcp_rows()


def seen_items() -> frozenset[str]:
    return frozenset({"w", "wh"})
HIDDEN_TOOLS = {"get_user_clients", "get_user_client", "create_user_client", "update_user_client", "delete_user_client"}


def test_the_mcp_table_is_complete(ctx: AppContext) -> None:
    assert {tool.name for tool in build_tools(ctx)[0]} == {row.tool for _, row in MCP_ROWS}


@pytest.mark.parametrize("row", [r for _, r in MCP_ROWS], ids=[i for i, _ in MCP_ROWS])
async def test_mcp_for_a_restricted_connection(surfaces: Surfaces, row: Mcp) -> None:
    world = await _world(surfaces)
    before = await _everything(surfaces.ctx, world.user_id)
    arguments = _filled(row.arguments, world)

    async with connect(surfaces.mcp_url, world.mcp_token, "streamable-2026-07-28") as client:
        result = await client.call_tool(row.tool, arguments)
        if row.error == "not found":  # word for word what an id that never existed gets
            unknown = "z" * 15
            other = await client.call_tool(row.tool, {**arguments, "id": unknown})

    text = result.content[0].text  # type: ignore[union-attr]
    if row.error is not None:
        assert result.is_error and row.error in text, text
        if row.error == "not found":
            assert text == other.content[0].text.replace(unknown, arguments["id"])  # type: ignore[union-attr]
    else:
        assert not result.is_error, text
    data = result.structured_content
    if row.tool == "search":  # ChatGPT's shape: only the items the profile shows
        assert data is not None and world.names([r["id"] for r in data["results"]]) <= seen_items()
    if row.sees is not None:
        assert data is not None
        listed = data["items"] if "items" in data else [data]
        assert world.names([r["id"] for r in listed]) == row.sees
        for record in listed:
            assert world.names(record.get("tags", [])) <= {"work"}
    if row.tags is not None:
        assert data is not None
        world.ids.setdefault("new", data["id"])
        assert await _item_tags(surfaces.ctx, world, world.names([data["id"]]).pop()) == row.tags
    if not row.changes:
        assert await _everything(surfaces.ctx, world.user_id) == before


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_tools_list_hides_the_client_profile_tools_from_a_restricted_connection(
    surfaces: Surfaces, transport: str
) -> None:
    world = await _world(surfaces)
    everyone = await make_token(surfaces.ctx, world.user_id, list(SCOPES), client_id="another-app",
                                resource=surfaces.ctx.settings.mcp_resource)
    async with connect(surfaces.mcp_url, world.mcp_token, transport) as client:
        restricted = {tool.name for tool in (await client.list_tools()).tools}
    async with connect(surfaces.mcp_url, everyone, transport) as client:
        unrestricted = {tool.name for tool in (await client.list_tools()).tools}
    assert unrestricted == {row.tool for _, row in MCP_ROWS}
    assert restricted == unrestricted - HIDDEN_TOOLS


async def test_a_change_of_profile_applies_on_the_next_call(surfaces: Surfaces) -> None:
    """The Connected apps page changes the profile's tags (here: the data layer, as it does); a
    connected SDK client and the REST API see the new view on their next call after the bound."""
    world = await _world(surfaces)
    headers = {"Authorization": f"Bearer {world.api_token}"}
    async with connect(surfaces.mcp_url, world.mcp_token, "streamable-2025-11-25") as client:
        first = await client.call_tool("get_user_items", {})
        assert world.names([r["id"] for r in first.structured_content["items"]]) == {"w", "wh"}  # type: ignore[index]
        assert (await surfaces.api.get("/api/v1/user/items", headers=headers)).json()["totalItems"] == 2

        async with surfaces.ctx.db.session() as session:
            await records.update_record(CLIENTS, session, world.user_id, world.ids["app"],
                                        ClientUpdate(accessTags=[world.ids["home"]]))
        await asyncio.sleep(CACHE_SECONDS * 2)

        second = await client.call_tool("get_user_items", {})
        assert world.names([r["id"] for r in second.structured_content["items"]]) == {"h", "wh"}  # type: ignore[index]
        listed = (await surfaces.api.get("/api/v1/user/items", headers=headers)).json()
        assert world.names([r["id"] for r in listed["items"]]) == {"h", "wh"}

        async with surfaces.ctx.db.session() as session:  # the person lifts the restriction
            consent = await session.get(OAuthConsent, await _consent_id(surfaces.ctx, world))
            assert consent is not None
            consent.restricted = False
        await asyncio.sleep(CACHE_SECONDS * 2)
        third = await client.call_tool("get_user_items", {})
        assert third.structured_content["totalItems"] == 4  # type: ignore[index]
        assert "get_user_clients" in {tool.name for tool in (await client.list_tools()).tools}


async def _consent_id(ctx: AppContext, world: World) -> str:
    async with ctx.db.session() as session:
        return (await session.scalars(
            select(OAuthConsent.id).where(OAuthConsent.user_id == world.user_id, OAuthConsent.client_id == APP)
        )).one()
