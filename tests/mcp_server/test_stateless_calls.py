"""The lean path for 2026-07-28 ``tools/call`` answers exactly as the SDK does, and only what it should.

Two apps over the same database: the service as deployed (``create_mcp_app(ctx)``) and the same
service with every request left to the SDK (``lean_tool_calls=False``). Each request below goes
to both; status, content type and body must be the same, byte for byte, after the ids and times
of records a write just made are set aside. The test wraps the lean path's tools to see which
requests it answered itself: every tools/call it recognises, and nothing else.

This file is the one place that says what broke when the ``mcp`` pin in pyproject.toml moves: the
lean path mirrors SDK internals, and each one it relies on is checked below by name (an SDK name
that is gone altogether already fails the import of ``stateless_calls``, naming it). After moving
the pin, run this file first.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import x_mcp_header_map
from mcp_types import CLIENT_CAPABILITIES_META_KEY, PROTOCOL_VERSION_META_KEY

from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS, TAGS
from axiom_mcp.data.schemas import ItemCreate, TagCreate
from axiom_mcp.mcp_server.app import build_mcp_server, create_mcp_app
from axiom_mcp.mcp_server.auth import MAX_BODY_BYTES
from axiom_mcp.mcp_server.stateless_calls import StatelessToolCalls
from axiom_mcp.mcp_server.tool_calls import AxiomTool
from tests.mcp_server import rpc
from tests.mcp_server.conftest import McpService
from tests.support.servers import running


RE_VERIFY = ("re-verify mcp_server/stateless_calls.py (with DirectCall and AxiomTool._content in tool_calls.py) "
             "against the new SDK, then update this check")


# --- what the lean path relies on in the SDK ----------------------------------------------------

SDK_SIGNATURES = [
    # stateless_calls: the SDK's own checks, called in the SDK's order
    ("mcp.server.transport_security", "TransportSecurityMiddleware.validate_request", ["self", "request", "is_post"]),
    ("mcp.server.streamable_http", "check_accept_headers", ["request"]),
    ("mcp.shared.inbound", "find_duplicated_routing_header", ["headers"]),
    ("mcp.shared.inbound", "classify_inbound_request", ["body", "headers", "supported_modern_versions"]),
    ("mcp_types.methods", "validate_client_request", ["method", "version", "params", "surface"]),
    ("mcp.shared.inbound", "x_mcp_header_map", ["input_schema"]),
    ("mcp.shared.inbound", "InboundLadderRejection", None),
    ("mcp.shared.inbound", "ERROR_CODE_HTTP_STATUS", None),
    ("mcp.shared.inbound", "MCP_PARAM_HEADER_PREFIX", None),
    ("mcp_types", "JSONRPCRequest", None),
    ("mcp_types", "SERVER_INFO_META_KEY", None),
    ("mcp.shared.exceptions", "MCPError", ["code", "message", "data"]),
    # tool_calls.py: AxiomTool.run overrides the SDK's, _content replaces convert_result's rendering
    ("mcp.server.mcpserver.tools", "Tool.run", ["self", "arguments", "context", "convert_result"]),
    ("mcp.server.mcpserver.utilities.func_metadata", "FuncMetadata.convert_result", ["self", "result"]),
]


@pytest.mark.parametrize(("module", "name", "parameters"), SDK_SIGNATURES, ids=[n for _, n, _ in SDK_SIGNATURES])
def test_the_sdk_internals_the_lean_path_calls_are_there(module: str, name: str, parameters: list[str] | None) -> None:
    found: Any = importlib.import_module(module)
    for part in name.split("."):
        assert hasattr(found, part), f"the lean path relies on {module}.{name}, which is gone; {RE_VERIFY}"
        found = getattr(found, part)
    if parameters is not None:
        now = list(inspect.signature(found).parameters)
        assert now == parameters, (
            f"the lean path relies on {module}.{name}({', '.join(parameters)}); it is now ({', '.join(now)}); "
            f"{RE_VERIFY}"
        )


MIRRORED = {
    "mcp.server._streamable_http_modern.handle_modern_request": "cde3cb6094dd5193",
    "mcp.server._streamable_http_modern._mcp_param_rejection": "933612dde6d7622f",
}
"""The SDK code whose checks the lean path repeats (their order, what each refuses), by a digest of its
source: a change there may add a check the lean path does not make."""


@pytest.mark.parametrize("qualified", sorted(MIRRORED))
def test_the_sdk_code_the_lean_path_mirrors_is_unchanged(qualified: str) -> None:
    module, _, name = qualified.rpartition(".")
    source = inspect.getsource(getattr(importlib.import_module(module), name))
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert digest == MIRRORED[qualified], (
        f"the lean path mirrors the checks of {qualified}, whose source changed (digest {digest}); {RE_VERIFY}"
    )


async def test_the_sdk_objects_the_lean_path_uses_have_their_shape(mcp: McpService) -> None:
    server, tools, _ = build_mcp_server(mcp.ctx)
    lowlevel = getattr(server, "_lowlevel_server", None)
    assert lowlevel is not None, f"the lean path relies on MCPServer._lowlevel_server (transports.py); {RE_VERIFY}"
    stamp = getattr(lowlevel, "server_info_stamp", None)
    assert isinstance(stamp, dict) and stamp.get("name") == "axiom", (
        f"the lean path relies on Server.server_info_stamp, the serverInfo the SDK stamps on results; {RE_VERIFY}"
    )
    assert issubclass(UnexpectedToolError, ToolError), (
        f"the lean path relies on UnexpectedToolError being a ToolError; {RE_VERIFY}"
    )
    assert MCPError(-32602, "m").error.code == -32602, f"the lean path relies on MCPError.error (ErrorData); {RE_VERIFY}"
    for tool in tools:
        assert hasattr(tool, "fn_metadata") and hasattr(tool, "parameters"), (
            f"AxiomTool relies on Tool.fn_metadata and Tool.parameters; {RE_VERIFY}"
        )
        meta = tool.fn_metadata
        for attribute in ("arg_model", "output_schema", "wrap_output"):
            assert hasattr(meta, attribute), (
                f"AxiomTool relies on FuncMetadata.{attribute} (argument names, _content); {RE_VERIFY}"
            )
        assert x_mcp_header_map(tool.parameters) == {}, (
            f"{tool.name} declares x-mcp-header parameters: the lean path does not run the SDK's Mcp-Param "
            f"header validation, so such a tool must be served by the SDK ({RE_VERIFY})"
        )


async def test_the_body_limit_is_the_sdks(pair: Pair) -> None:
    manager = pair.lean_transports.manager
    assert manager.max_request_body_size == MAX_BODY_BYTES, (
        f"the lean path refuses bodies over auth.MAX_BODY_BYTES as the SDK refuses bodies over its "
        f"StreamableHTTPSessionManager.max_request_body_size ({manager.max_request_body_size}); {RE_VERIFY}"
    )


# --- the two paths, side by side ----------------------------------------------------------------


@dataclass
class ServedCount:
    """Calls the lean path ran itself: its tools, wrapped by the test (the SDK runs its own copies)."""

    count: int = 0


@dataclass
class CountedTool:
    tool: AxiomTool
    served: ServedCount = field(repr=False)

    @property
    def name(self) -> str:
        return self.tool.name

    async def run(self, arguments: dict[str, Any], context: Any) -> Any:
        self.served.count += 1
        return await self.tool.run(arguments, context)


@dataclass
class Pair:
    lean: httpx.AsyncClient
    sdk: httpx.AsyncClient
    lean_transports: Any
    served_count: ServedCount

    @property
    def served(self) -> int:
        return self.served_count.count


@pytest.fixture(scope="session")
async def pair(mcp: McpService) -> AsyncIterator[Pair]:
    """Both apps on loopback, for the ``mcp`` service's settings (its Host, its token audience)."""
    lean_app, sdk_app = create_mcp_app(mcp.ctx), create_mcp_app(mcp.ctx, lean_tool_calls=False)
    lean_path: StatelessToolCalls = lean_app.state.transports.stateless_calls
    served = ServedCount()
    lean_path.tools = {name: CountedTool(tool, served) for name, tool in lean_path.tools.items()}  # type: ignore[misc]
    host = {"Host": urlsplit(mcp.url).netloc}  # the address the settings name; the Host check wants it
    async with (
        running(lean_app) as lean_url,
        running(sdk_app) as sdk_url,
        httpx.AsyncClient(base_url=lean_url, headers=host, timeout=10) as lean,
        httpx.AsyncClient(base_url=sdk_url, headers=host, timeout=10) as sdk,
    ):
        yield Pair(lean, sdk, lean_app.state.transports, served)


@dataclass
class Owner:
    token: str
    item_id: str
    tag_id: str


@pytest.fixture
async def owner(mcp: McpService) -> Owner:
    """A user with tagged items, one of them with microseconds in its times and odd text."""
    user = await mcp.user("Dee")
    async with mcp.ctx.db.session() as session:
        tag = await records.create_record(TAGS, session, user.id, TagCreate(name="Ärzte"))
        await records.create_record(TAGS, session, user.id, TagCreate(name="alpha"))
        item = None
        for n in range(5):
            item = await records.create_record(ITEMS, 
                session, user.id,
                ItemCreate(name=f"Item {n} \"quoted\" \\ ✓", content=f"<p>line\nnext {n} ünïcode</p>",
                           tags=[tag.id] if n % 2 else [], files=["a.pdf"] if n == 3 else []),
            )
    assert item is not None
    return Owner(await mcp.token(user.id), item.id, tag.id)


_MADE_BY_A_WRITE = {"id", "created", "updated"}


def _settled(value: Any) -> Any:
    """A parsed body with the ids and times a write makes set aside (two writes make different
    ones); text content that is JSON is compared as the document it holds."""
    if isinstance(value, list) and all(isinstance(p, tuple) and len(p) == 2 for p in value) and value:
        return [(k, "?" if k in _MADE_BY_A_WRITE and isinstance(v, str) else _settled(v)) for k, v in value]
    if isinstance(value, list):
        return [_settled(v) for v in value]
    if isinstance(value, str) and value.startswith("{"):
        return _settled(json.loads(value, object_pairs_hook=list))
    return value


async def _both(pair: Pair, body: Any, headers: dict[str, str], *, writes: bool = False,
                between: Callable[[httpx.Response], Awaitable[None]] | None = None) -> httpx.Response:
    """The lean path's answer, having checked the SDK's is the same (``between`` runs between the two)."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    lean = await pair.lean.post("/mcp", content=content, headers=headers)
    if between is not None:
        await between(lean)
    sdk = await pair.sdk.post("/mcp", content=content, headers=headers)
    assert (lean.status_code, lean.headers.get("content-type")) == (sdk.status_code, sdk.headers.get("content-type"))
    assert _document(lean.content, writes) == _document(sdk.content, writes)
    return lean


def _document(body: bytes, writes: bool) -> Any:
    """A JSON body as nested lists of (key, value) pairs, so member order counts too; other bodies as
    they are. (Text is compared as text: the SDK writes non-ASCII as \\u escapes, the lean path as
    UTF-8, the same JSON either way.)"""
    try:
        document = json.loads(body, object_pairs_hook=list)
    except ValueError:
        return body
    return _settled(document) if writes else document


def _call(tool: str, arguments: Any, token: str, request_id: Any = 7) -> tuple[dict, dict]:
    return rpc.modern_call(tool, arguments, token, request_id)


READS = [
    ("get_user_items", {}),
    ("get_user_items", {"page": 1, "perPage": 2}),
    ("get_user_items", {"page": 3, "perPage": 2}),
    ("get_user_items", {"page": 99}),
    ("get_user_items", {"search": "ÜNÏCODE"}),
    ("get_user_items", {"search": "100%_"}),
    ("get_user_items", {"search": "item next", "tag": "ärzte"}),
    ("get_user_items", {"tag": "TAG", "sort": "name"}),
    ("get_user_items", {"sort": "-updated", "perPage": 2, "page": 2}),
    ("get_user_items", {"search": "\"item\" OR *", "sort": "created"}),
    ("get_user_tags", {}),
    ("get_user_clients", {}),
    ("get_user_profile", {}),
    ("get_user_item", "ITEM"),
    ("get_user_tag", "TAG"),
    # tool errors: arguments, ids, scopes the tool checks itself
    ("get_user_items", {"page": 0}),
    ("get_user_items", {"perPage": 1000}),
    ("get_user_items", {"page": "two"}),
    ("get_user_items", {"serach": "x"}),
    ("get_user_items", {"search": "nul\x00"}),
    ("get_user_items", {"tag": "nosuchtag"}),
    ("get_user_items", {"sort": "newest"}),
    ("get_user_item", {"id": "nope"}),
    ("get_user_item", {"id": "zzzzzzzzzzzzzzz"}),
    ("get_user_item", {}),
    ("get_user_profile", {"extra": 1}),
    ("update_user_item", {"id": "zzzzzzzzzzzzzzz"}),
    ("delete_user_tag", {"id": "nope"}),
    ("create_user_item", {"name": ""}),
    ("create_user_item", {"name": "x", "tags": ["notmine"]}),
]


@pytest.mark.parametrize(("tool", "arguments"), READS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(READS)])
async def test_reads_and_tool_errors_are_the_sdks_answers(pair: Pair, owner: Owner, tool: str, arguments: Any) -> None:
    if arguments == "ITEM":
        arguments = {"id": owner.item_id}
    elif arguments == "TAG":
        arguments = {"id": owner.tag_id}
    elif arguments.get("tag") == "TAG":
        arguments = {**arguments, "tag": owner.tag_id}
    before = pair.served
    await _both(pair, *_call(tool, arguments, owner.token))
    assert pair.served == before + 1


async def test_writes_are_the_sdks_answers(pair: Pair, mcp: McpService, owner: Owner) -> None:
    async def undo(lean: httpx.Response) -> None:  # tag names are unique: the SDK's call makes it anew
        made = lean.json()["result"]["structuredContent"]
        async with mcp.ctx.db.session() as session:
            await records.delete_record(TAGS, session, made["user"], made["id"])

    before = pair.served
    for tool, arguments in [
        ("create_user_tag", {"name": "  new tag  "}),
        ("create_user_item", {"name": "n", "content": "c", "tags": [owner.tag_id], "files": ["f.txt"]}),
        ("create_user_client", {"name": "Acme", "accessTags": [owner.tag_id]}),
        ("update_user_item", {"id": owner.item_id, "name": "renamed", "tags": []}),
        ("update_user_tag", {"id": owner.tag_id, "name": "Ärzte 2"}),
    ]:
        between = undo if tool == "create_user_tag" else None
        answer = await _both(pair, *_call(tool, arguments, owner.token), writes=True, between=between)
        assert answer.json()["result"]["isError"] is False, answer.text
    assert pair.served == before + 5
    refused = await _both(pair, *_call("create_user_tag", {"name": "ALPHA"}, owner.token), writes=True)
    assert refused.json()["result"]["isError"] is True and "named 'alpha'" in refused.text


async def test_a_missing_scope_is_the_same_tool_error(pair: Pair, mcp: McpService, owner: Owner) -> None:
    user = await mcp.user("Reader")
    token = await mcp.token(user.id, ["items:read"])
    # The 403 challenge comes first on both (BearerAuth); the Mcp-Name header decides it.
    await _both(pair, *_call("get_user_tags", {}, token))
    # A body that names another tool than its header is refused by the SDK's ladder on both.
    body, headers = _call("get_user_items", {}, token)
    body["params"]["name"] = "get_user_tags"
    await _both(pair, body, headers)


@pytest.mark.parametrize("request_id", [0, -1, 2**53, "abc", "", "ünï \"q\""])
async def test_request_ids_come_back_as_sent(pair: Pair, owner: Owner, request_id: Any) -> None:
    answer = await _both(pair, *_call("get_user_profile", {}, owner.token, request_id))
    assert answer.json()["id"] == request_id


def _envelope_cases(token: str) -> list[tuple[str, Any, dict[str, str]]]:
    """Requests the lean path must leave to the SDK: each is refused or answered by the SDK itself."""
    body, headers = _call("get_user_items", {"page": 1}, token)

    def changed(**edits: Any) -> dict:
        copy = json.loads(json.dumps(body))
        for key, value in edits.items():
            if value is None:
                copy.pop(key, None)
            else:
                copy[key] = value
        return copy

    def params(**edits: Any) -> dict:
        copy = json.loads(json.dumps(body))
        for key, value in edits.items():
            if value is None:
                copy["params"].pop(key, None)
            else:
                copy["params"][key] = value
        return copy

    no_meta = params(_meta=None)
    other_version = params(_meta={PROTOCOL_VERSION_META_KEY: "2025-11-25", CLIENT_CAPABILITIES_META_KEY: {}})
    return [
        ("unknown tool", params(name="no_such_tool"), {**headers, "Mcp-Name": "no_such_tool"}),
        ("not JSON", b"{not json", headers),
        ("a batch", [body], headers),
        ("a notification", changed(id=None), headers),
        ("float id", changed(id=1.5), headers),
        ("null id", changed(id=None) | {"id": None}, headers),
        ("bool id", changed(id=True), headers),
        ("wrong jsonrpc", changed(jsonrpc="1.0"), headers),
        ("extra member", changed(extra=1), headers),
        ("params not an object", changed(params=[1]), headers),
        ("arguments not an object", params(arguments=[1]), headers),
        ("name not a string", params(name=5), headers),
        ("extra params member", params(task={"ttl": 1000}), headers),
        ("no _meta", no_meta, headers),
        ("_meta version differs from header", other_version, headers),
        ("Mcp-Name differs", body, {**headers, "Mcp-Name": "get_user_tags"}),
        ("Mcp-Method differs", body, {**headers, "Mcp-Method": "tools/list"}),
        ("no Mcp-Method", body, {k: v for k, v in headers.items() if k != "Mcp-Method"}),
        ("unsupported version", body, {**headers, "MCP-Protocol-Version": "2099-01-01"}),
        ("Accept without JSON", body, {**headers, "Accept": "text/event-stream"}),
        ("Content-Type not JSON", body, {**headers, "Content-Type": "text/plain"}),
        ("Mcp-Param header", body, {**headers, "Mcp-Param-Page": "1"}),
        ("tools/list", {**rpc.request("tools/list", {"_meta": body["params"]["_meta"]})},
         {**headers, "Mcp-Method": "tools/list", "Mcp-Name": ""}),
    ]


_ANSWERED_BY_THE_SDK = {"tools/list", "Mcp-Param header", "extra member", "extra params member"}
"""Requests the SDK serves (members it ignores, headers our tools declare nothing for); the rest it refuses."""


@pytest.mark.parametrize("case", range(23))
async def test_what_it_does_not_recognise_goes_to_the_sdk(pair: Pair, owner: Owner, case: int) -> None:
    cases = _envelope_cases(owner.token)
    assert len(cases) == 23
    label, body, headers = cases[case]
    headers = {k: v for k, v in headers.items() if v != ""}
    before = pair.served
    answer = await _both(pair, body, headers)
    assert pair.served == before, f"{label}: answered by the lean path"
    if label not in _ANSWERED_BY_THE_SDK:
        assert answer.status_code != 200 or "error" in answer.json() or answer.json()["result"]["isError"], label


async def test_duplicated_routing_headers_go_to_the_sdk(pair: Pair, owner: Owner) -> None:
    body, headers = _call("get_user_items", {}, owner.token)
    raw = [*headers.items(), ("Mcp-Name", "get_user_items")]
    before = pair.served
    lean = await pair.lean.post("/mcp", content=json.dumps(body), headers=raw)
    sdk = await pair.sdk.post("/mcp", content=json.dumps(body), headers=raw)
    assert (lean.status_code, lean.content) == (sdk.status_code, sdk.content)
    assert lean.status_code == 400 and pair.served == before


async def test_a_body_over_the_limit_is_refused_as_the_sdk_refuses_it(pair: Pair, owner: Owner) -> None:
    body, headers = _call("get_user_items", {"search": "x" * (4 * 1024 * 1024)}, owner.token)
    before = pair.served
    answer = await _both(pair, body, headers)
    assert answer.status_code == 413 and pair.served == before
