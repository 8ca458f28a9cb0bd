"""Who may use the MCP endpoints: bearer tokens for this server, their scopes, their sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from mcp.shared.exceptions import MCPError

from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS, TAGS
from axiom_mcp.data.schemas import PageQuery
from axiom_mcp.data.tokens import issue_access_token, revoke_access_token
from axiom_mcp.mcp_server.auth import INSUFFICIENT_SCOPE_CODE, tools_called
from axiom_mcp.settings import DEFAULT_SCOPES
from tests.mcp_server import rpc
from tests.mcp_server.clients import LEGACY_SSE, STREAMABLE, TRANSPORTS, connect
from tests.mcp_server.conftest import TOKEN_CACHE_SECONDS, McpService, Member

CHALLENGE_SCOPE = " ".join(DEFAULT_SCOPES)


async def _expired(mcp: McpService, user_id: str) -> str:
    async with mcp.ctx.db.session() as session:
        raw, _ = await issue_access_token(
            session, user_id=user_id, client_id="test", scopes=list(DEFAULT_SCOPES),
            resource=mcp.ctx.settings.mcp_resource, ttl=timedelta(seconds=-1),
        )
    return raw


async def _revoked(mcp: McpService, user_id: str) -> str:
    raw = await mcp.token(user_id)
    async with mcp.ctx.db.session() as session:
        await revoke_access_token(session, raw)
    return raw


TokenMaker = Callable[[McpService, str], Awaitable[str | None]]

BAD_CREDENTIALS: dict[str, tuple[TokenMaker, str | None]] = {
    # id: (how to make the Authorization header's value, the error the challenge must name)
    "missing": (lambda mcp, uid: asyncio.sleep(0, None), None),
    "basic-scheme": (lambda mcp, uid: asyncio.sleep(0, "Basic dXNlcjpwYXNz"), None),
    "empty-bearer": (lambda mcp, uid: asyncio.sleep(0, "Bearer"), None),
    "unknown-token": (lambda mcp, uid: asyncio.sleep(0, "Bearer axat_made_up_by_someone"), "invalid_token"),
    "api-audience": (
        lambda mcp, uid: _bearer(mcp.token(uid, resource=mcp.ctx.settings.api_resource)), "invalid_token"),
    "foreign-audience": (
        lambda mcp, uid: _bearer(mcp.token(uid, resource="https://elsewhere.example/mcp")), "invalid_token"),
    "expired": (lambda mcp, uid: _bearer(_expired(mcp, uid)), "invalid_token"),
    "revoked": (lambda mcp, uid: _bearer(_revoked(mcp, uid)), "invalid_token"),
}


async def _bearer(token: Awaitable[str]) -> str:
    return f"Bearer {await token}"


ENDPOINTS = {
    "post-mcp": ("POST", "/mcp"),
    "get-mcp": ("GET", "/mcp"),
    "get-sse": ("GET", "/sse"),
    "post-messages": ("POST", "/messages?session_id=0123456789abcdef0123456789abcdef"),
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS))
async def test_requests_without_a_valid_token_get_a_401_challenge(
    mcp: McpService, member: Member, http: httpx.AsyncClient, credentials: str, endpoint: str
) -> None:
    make, error = BAD_CREDENTIALS[credentials]
    authorization = await make(mcp, member.user.id)
    method, path = ENDPOINTS[endpoint]
    headers = rpc.headers()
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await http.request(method, path, json=rpc.initialize(), headers=headers)

    assert response.status_code == 401
    params = rpc.challenge(response.headers["www-authenticate"])
    assert params["resource_metadata"] == f"{mcp.url}/.well-known/oauth-protected-resource/mcp"
    assert params["scope"] == CHALLENGE_SCOPE
    assert params.get("error") == error
    assert response.json()["error"] == "invalid_token"


async def test_the_challenge_leads_to_metadata_naming_this_resource(mcp: McpService, http: httpx.AsyncClient) -> None:
    response = await http.post("/mcp", json=rpc.initialize(), headers=rpc.headers())
    metadata_url = rpc.challenge(response.headers["www-authenticate"])["resource_metadata"]
    document = (await http.get(metadata_url)).json()
    assert document["resource"] == f"{mcp.url}/mcp"
    assert set(CHALLENGE_SCOPE.split()) <= set(document["scopes_supported"])


async def test_a_token_for_the_whole_server_is_accepted(mcp: McpService, member: Member) -> None:
    token = await mcp.token(member.user.id, resource=mcp.ctx.settings.mcp_url)
    async with connect(mcp.url, token, "streamable-2025-11-25") as client:
        assert not (await client.call_tool("get_user_profile", {})).is_error


async def test_a_token_for_the_rest_api_does_not_connect(mcp: McpService, member: Member) -> None:
    api_token = await mcp.token(member.user.id, resource=mcp.ctx.settings.api_resource)
    with pytest.raises(Exception):  # the SDK reports the 401 of `initialize` as a failed connect  # noqa: B017
        async with connect(mcp.url, api_token, "streamable-2025-11-25"):
            pass


# --- revocation and expiry ----------------------------------------------------------------------


@pytest.mark.parametrize("transport", STREAMABLE)
async def test_a_revoked_token_stops_working_at_once(mcp: McpService, member: Member, transport: str) -> None:
    token = await mcp.token(member.user.id)
    async with connect(mcp.url, token, transport) as client:
        assert not (await client.call_tool("get_user_profile", {})).is_error  # now cached
        async with mcp.ctx.db.session() as session:
            await revoke_access_token(session, token)
        mcp.ctx.tokens.forget_token(token)  # what a revocation in this process does
        with pytest.raises(MCPError):
            await client.call_tool("get_user_profile", {})


async def test_a_token_revoked_by_another_instance_stops_within_the_cache_time(
    mcp: McpService, member: Member, http: httpx.AsyncClient
) -> None:
    token = await mcp.token(member.user.id)
    body, headers = rpc.modern_call("get_user_profile", {}, token)
    assert (await http.post("/mcp", json=body, headers=headers)).status_code == 200
    async with mcp.ctx.db.session() as session:  # the database changes; this process's cache is not told
        await revoke_access_token(session, token)
    await asyncio.sleep(TOKEN_CACHE_SECONDS + 0.2)
    assert (await http.post("/mcp", json=body, headers=headers)).status_code == 401


async def test_a_token_that_expires_during_a_session_stops_working(mcp: McpService, member: Member) -> None:
    async with mcp.ctx.db.session() as session:
        token, _ = await issue_access_token(
            session, user_id=member.user.id, client_id="test", scopes=["profile:read"],
            resource=mcp.ctx.settings.mcp_resource, ttl=timedelta(seconds=1.5),
        )
    async with connect(mcp.url, token, "streamable-2025-11-25") as client:
        assert not (await client.call_tool("get_user_profile", {})).is_error
        await asyncio.sleep(1.6)
        with pytest.raises(MCPError):
            await client.call_tool("get_user_profile", {})


# --- scopes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", STREAMABLE)
async def test_a_read_only_token_gets_403_insufficient_scope_on_a_write_tool(
    mcp: McpService, transport: str
) -> None:
    user = await mcp.user()
    token = await mcp.token(user.id, ["items:read"])
    async with connect(mcp.url, token, transport) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("create_user_item", {"name": "nope"})
        assert refused.value.error.code == INSUFFICIENT_SCOPE_CODE
        assert "'items:write'" in refused.value.error.message
        # the refusal ended that call, not the session
        assert (await client.call_tool("get_user_items", {})).structured_content["totalItems"] == 0
    async with mcp.ctx.db.session() as session:
        assert (await records.list_records(ITEMS, session, user.id, PageQuery())).totalItems == 0


@pytest.mark.parametrize("era", ["session", "modern"])
async def test_the_403_carries_the_scope_challenge(
    mcp: McpService, member: Member, http: httpx.AsyncClient, era: str
) -> None:
    token = await mcp.token(member.user.id, ["items:read", "tags:read"])
    arguments = {"name": "x"}
    if era == "modern":
        body, headers = rpc.modern_call("create_user_tag", arguments, token)
    else:
        opened = await http.post("/mcp", json=rpc.initialize(), headers=rpc.headers(token))
        headers = rpc.headers(token, **{"Mcp-Session-Id": opened.headers["mcp-session-id"],
                                        "MCP-Protocol-Version": rpc.SESSION_ERA})
        body = rpc.request("tools/call", {"name": "create_user_tag", "arguments": arguments}, 7)
    response = await http.post("/mcp", json=body, headers=headers)

    assert response.status_code == 403
    params = rpc.challenge(response.headers["www-authenticate"])
    assert (params["error"], params["scope"]) == ("insufficient_scope", "tags:write")
    assert params["resource_metadata"] == f"{mcp.url}/.well-known/oauth-protected-resource/mcp"
    error = response.json()
    assert error["id"] == 7 and error["error"]["data"] == {"error": "insufficient_scope", "scope": "tags:write"}


async def test_a_modern_request_cannot_hide_a_write_behind_a_read_tools_name(
    mcp: McpService, http: httpx.AsyncClient
) -> None:
    user = await mcp.user()
    token = await mcp.token(user.id, ["items:read"])
    body, headers = rpc.modern_call("create_user_item", {"name": "smuggled"}, token)
    headers["Mcp-Name"] = "get_user_items"  # the header the scope check reads disagrees with the body
    response = await http.post("/mcp", json=body, headers=headers)
    assert response.status_code == 400 and "mcp-name" in response.json()["error"]["message"].lower()
    async with mcp.ctx.db.session() as session:
        assert (await records.list_records(ITEMS, session, user.id, PageQuery())).totalItems == 0


@pytest.mark.parametrize("transport", LEGACY_SSE)
async def test_on_legacy_sse_a_missing_scope_is_a_tool_error(mcp: McpService, transport: str) -> None:
    user = await mcp.user()
    token = await mcp.token(user.id, ["tags:read"])
    async with connect(mcp.url, token, transport) as client:
        result = await client.call_tool("create_user_tag", {"name": "nope"})
        assert result.is_error
        assert "needs the 'tags:write' scope" in result.content[0].text  # type: ignore[union-attr]
        assert not (await client.call_tool("get_user_tags", {})).is_error  # the connection lives on
    async with mcp.ctx.db.session() as session:
        assert (await records.list_records(TAGS, session, user.id, PageQuery())).totalItems == 0


@pytest.mark.parametrize(
    ("scopes", "tool", "needed"),
    [
        (["items:write"], "get_user_items", "items:read"),
        (["items:read", "items:write"], "get_user_profile", "profile:read"),
        (["tags:read", "tags:write"], "delete_user_client", "clients:write"),
        (["clients:read"], "update_user_client", "clients:write"),
    ],
    ids=["write-without-read", "no-profile", "other-kind", "read-only-client"],
)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_each_tool_checks_its_own_scope(
    mcp: McpService, member: Member, transport: str, scopes: list[str], tool: str, needed: str
) -> None:
    token = await mcp.token(member.user.id, scopes)
    arguments = {} if tool.startswith(("get_user_p", "get_user_items")) else {"id": "abc", "name": "x"}
    async with connect(mcp.url, token, transport) as client:
        if transport in STREAMABLE:
            with pytest.raises(MCPError) as refused:
                await client.call_tool(tool, arguments)
            message = refused.value.error.message
        else:
            result = await client.call_tool(tool, arguments)
            assert result.is_error
            message = result.content[0].text  # type: ignore[union-attr]
    assert repr(needed) in message


async def test_listing_tools_needs_no_particular_scope(mcp: McpService, member: Member) -> None:
    token = await mcp.token(member.user.id, ["profile:read"])
    async with connect(mcp.url, token, "streamable-2026-07-28") as client:
        assert len((await client.list_tools()).tools) == 20  # the five of each kind, the profile, two of files, search, fetch


@pytest.mark.parametrize(
    ("body", "calls"),
    [
        (b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_user_items"}}', [(3, "get_user_items")]),
        (b'[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":"b","method":"tools/call",'
         b'"params":{"name":"delete_user_tag","arguments":{"id":"x"}}}]', [("b", "delete_user_tag")]),
        (b'{"jsonrpc":"2.0","id":4,"method":"tools\\/call","params":{"name":"create_user_\\u0074ag"}}',
         [(4, "create_user_tag")]),
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}', []),
        (b'{"method":"tools/call","params":{"name":7}}', []),
        (b'{"method":"tools/call","params":"x"}', []),
        (b'{not json, but says tools/call', []),
        (b"[" * 100_000 + b'"tools/call"' + b"]" * 100_000, []),
    ],
    ids=["one-call", "batch", "escaped", "not-a-call", "name-not-a-string", "params-not-an-object", "not-json", "deep-nesting"],
)
def test_tools_called_finds_every_call_in_a_body(body: bytes, calls: list[tuple[object, str]]) -> None:
    assert tools_called(body) == calls


# --- sessions belong to the token's user and app ------------------------------------------------


async def test_a_streamable_session_is_bound_to_the_token_that_opened_it(
    mcp: McpService, member: Member, http: httpx.AsyncClient
) -> None:
    other = await mcp.user("Bob")
    bobs, same_user_other_app = await mcp.token(other.id), await mcp.token(member.user.id, client_id="other-app")
    opened = await http.post("/mcp", json=rpc.initialize(), headers=rpc.headers(member.token))
    session = {"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": rpc.SESSION_ERA}
    listing = rpc.request("tools/list")

    for token, status in ((bobs, 404), (same_user_other_app, 404), (None, 401), (member.token, 200)):
        response = await http.post("/mcp", json=listing, headers=rpc.headers(token, **session))
        assert response.status_code == status, token


@asynccontextmanager
async def legacy_sse_session(url: str, token: str) -> AsyncIterator[str]:
    """Open ``GET /sse`` with ``token``; yields the message endpoint its first event names."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        async with client.stream("GET", "/sse", headers=headers) as stream:
            assert stream.status_code == 200
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    yield line.removeprefix("data: ")
                    return


async def test_legacy_messages_need_the_token_of_the_stream_that_opened_the_session(
    mcp: McpService, member: Member, http: httpx.AsyncClient
) -> None:
    other = await mcp.user("Bob")
    bobs, same_user_other_app = await mcp.token(other.id), await mcp.token(member.user.id, client_id="other-app")
    async with legacy_sse_session(mcp.url, member.token) as endpoint:
        assert endpoint.startswith("/messages?session_id=")
        for token, status in ((None, 401), (bobs, 404), (same_user_other_app, 404), (member.token, 202)):
            response = await http.post(endpoint, json=rpc.initialize(), headers=rpc.headers(token))
            assert response.status_code == status, token
