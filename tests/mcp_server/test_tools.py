"""Every tool, called with the SDK's client over every transport, against the real data layer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp.client.client import Client

from axiom_mcp.data import records
from axiom_mcp.data.kinds import CLIENTS, ITEMS, KINDS, TAGS
from axiom_mcp.data.schemas import ClientCreate, ItemCreate, PageQuery, TagCreate
from tests.mcp_server.clients import PROTOCOL_VERSION, TRANSPORTS, connect
from tests.mcp_server.conftest import McpService, Member

TOOLS = [
    "get_user_profile",
    "get_user_items", "get_user_item", "create_user_item", "update_user_item", "delete_user_item",
    "add_user_item_file", "delete_user_item_file",
    "get_user_clients", "get_user_client", "create_user_client", "update_user_client", "delete_user_client",
    "get_user_tags", "get_user_tag", "create_user_tag", "update_user_tag", "delete_user_tag",
    "search", "fetch",
]


async def ok(client: Client, name: str, arguments: dict[str, Any] | None = None) -> Any:
    """Call a tool that must succeed; its text content is the JSON of its structured content."""
    result = await client.call_tool(name, arguments or {})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    return result.structured_content


async def failed(client: Client, name: str, arguments: dict[str, Any]) -> str:
    """Call a tool that must fail with a tool error; its message."""
    result = await client.call_tool(name, arguments)
    assert result.is_error, result.structured_content
    return result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_lists_the_tools_with_schemas_and_hints(mcp: McpService, member: Member, transport: str) -> None:
    async with connect(mcp.url, member.token, transport) as client:
        assert client.session.protocol_version == PROTOCOL_VERSION[transport]
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert list(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and tool.title, tool.name
        assert tool.output_schema is not None, tool.name
        assert tool.annotations is not None and tool.annotations.open_world_hint is False
        assert tool.annotations.read_only_hint is tool.name.startswith(("get_", "search", "fetch"))
    assert tools["create_user_item"].input_schema["required"] == ["name"]
    # Items' content is read as Markdown or HTML, and written in a format (issue 14).
    assert set(tools["get_user_items"].input_schema["properties"]) == {"page", "perPage", "search", "format", "tag", "sort"}
    # Items are searched by words, filtered by a tag and sorted (issue 14 item 4).
    sort = tools["get_user_items"].input_schema["properties"]["sort"]
    assert sort["anyOf"][0]["enum"] == ["-created", "created", "name", "-updated"] and sort["description"]
    assert "tag" in tools["get_user_items"].input_schema["properties"]["tag"]["description"]
    assert set(tools["get_user_tags"].input_schema["properties"]) == {"page", "perPage", "search"}
    assert tools["get_user_item"].input_schema["properties"]["format"]["enum"] == ["markdown", "html"]
    assert tools["create_user_item"].input_schema["properties"]["format"]["default"] == "markdown"
    assert tools["get_user_items"].input_schema["properties"]["perPage"]["maximum"] == 100
    assert tools["delete_user_tag"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert tools["create_user_tag"].annotations.destructive_hint is False  # type: ignore[union-attr]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_every_tool_reads_and_changes_the_callers_data(mcp: McpService, transport: str) -> None:
    user = await mcp.user("Ann")
    async with connect(mcp.url, await mcp.token(user.id), transport) as client:
        profile = await ok(client, "get_user_profile")
        assert (profile["id"], profile["email"], profile["name"]) == (user.id, user.email, "Ann")

        urgent = await ok(client, "create_user_tag", {"name": "urgent"})
        later = await ok(client, "create_user_tag", {"name": "  later  "})
        assert (urgent["user"], later["name"]) == (user.id, "later")

        item = await ok(client, "create_user_item",
                        {"name": "Plan", "content": "<p>Q3</p>", "format": "html", "tags": [urgent["id"]]})
        assert (item["name"], item["content"], item["tags"]) == ("Plan", "<p>Q3</p>", [urgent["id"]])
        assert [t["name"] for t in item["expand"]["tags"]] == ["urgent"]
        other_item = await ok(client, "create_user_item", {"name": "Notes"})
        acme = await ok(client, "create_user_client", {"name": "Acme", "accessTags": [urgent["id"], later["id"]]})
        assert sorted(acme["accessTags"]) == sorted([urgent["id"], later["id"]])

        assert await ok(client, "get_user_item", {"id": item["id"], "format": "html"}) == {**item, "attachedFiles": []}
        assert await ok(client, "get_user_client", {"id": acme["id"]}) == acme
        assert await ok(client, "get_user_tag", {"id": urgent["id"]}) == urgent

        page = await ok(client, "get_user_items", {})
        assert (page["page"], page["perPage"], page["totalItems"], page["totalPages"]) == (1, 30, 2, 1)
        assert [i["id"] for i in page["items"]] == [other_item["id"], item["id"]]  # newest first
        found = await ok(client, "get_user_items", {"search": "q3"})  # content, any case
        assert [i["id"] for i in found["items"]] == [item["id"]]
        second = await ok(client, "get_user_items", {"page": 2, "perPage": 1})
        assert ([i["id"] for i in second["items"]], second["totalPages"]) == ([item["id"]], 2)
        assert (await ok(client, "get_user_tags", {"search": "URG"}))["totalItems"] == 1
        assert [c["id"] for c in (await ok(client, "get_user_clients", {}))["items"]] == [acme["id"]]

        changed = await ok(client, "update_user_item", {"id": item["id"], "name": "Plan B", "tags": [later["id"]]})
        # Content is read as Markdown unless the call asks for HTML (issue 14).
        assert (changed["name"], changed["content"], changed["tags"]) == ("Plan B", "Q3", [later["id"]])
        renamed = await ok(client, "update_user_client", {"id": acme["id"], "name": "Acme Ltd", "accessTags": []})
        assert (renamed["name"], renamed["accessTags"]) == ("Acme Ltd", [])
        assert (await ok(client, "update_user_tag", {"id": urgent["id"], "name": "now"}))["name"] == "now"

        for kind, record in (("item", item), ("item", other_item), ("client", acme), ("tag", urgent), ("tag", later)):
            assert await ok(client, f"delete_user_{kind}", {"id": record["id"]}) == {"id": record["id"], "deleted": True}
        assert "not found" in await failed(client, "get_user_item", {"id": item["id"]})

    async with mcp.ctx.db.session() as session:
        for kind in KINDS.values():
            assert (await records.list_records(kind, session, user.id, PageQuery())).totalItems == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_items_are_found_by_words_filtered_by_tag_and_sorted(mcp: McpService, transport: str) -> None:
    user = await mcp.user("Ann")
    async with connect(mcp.url, await mcp.token(user.id), transport) as client:
        work = await ok(client, "create_user_tag", {"name": "Work"})
        made = [await ok(client, "create_user_item", args) for args in (
            {"name": "Émoji list", "content": "faces"},
            {"name": "budget", "content": "The **émoji** budget", "tags": [work["id"]]},
            {"name": "zebra", "tags": [work["id"]]},
        )]

        def names(page: dict[str, Any]) -> list[str]:
            return [i["name"] for i in page["items"]]

        assert names(await ok(client, "get_user_items", {"search": "EMOJI"})) == ["Émoji list", "budget"]
        assert sorted(names(await ok(client, "get_user_items", {"search": "work"}))) == ["budget", "zebra"]  # tag names
        assert names(await ok(client, "get_user_items", {"tag": "WORK"})) == ["zebra", "budget"]
        assert names(await ok(client, "get_user_items", {"tag": work["id"], "sort": "name"})) == ["budget", "zebra"]
        assert names(await ok(client, "get_user_items", {"sort": "created"})) == [m["name"] for m in made]
        assert names(await ok(client, "get_user_items", {"search": "emoji", "sort": "-created"})) == ["budget", "Émoji list"]
        assert names(await ok(client, "get_user_items", {"search": "!!!"})) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_another_users_ids_are_not_found(mcp: McpService, transport: str) -> None:
    ann, bob = await mcp.user("Ann"), await mcp.user("Bob")
    async with mcp.ctx.db.session() as session:
        tag = await records.create_record(TAGS, session, bob.id, TagCreate(name="bob's"))
        item = await records.create_record(ITEMS, session, bob.id, ItemCreate(name="bob's item", tags=[tag.id]))
        client_record = await records.create_record(CLIENTS, session, bob.id, ClientCreate(name="bob's client"))
    bobs = {"item": item.id, "client": client_record.id, "tag": tag.id}

    async with connect(mcp.url, await mcp.token(ann.id), transport) as client:
        for kind, record_id in bobs.items():
            for verb, extra in (("get", {}), ("update", {"name": "mine now"}), ("delete", {})):
                message = await failed(client, f"{verb}_user_{kind}", {"id": record_id, **extra})
                assert f"{kind} {record_id!r} not found" in message, (verb, kind)
            listed = await ok(client, f"get_user_{kind}s", {})
            assert record_id not in [r["id"] for r in listed["items"]]
        assert "unknown tag id" in await failed(client, "create_user_item", {"name": "x", "tags": [tag.id]})
        assert "unknown tag id" in await failed(client, "create_user_client", {"name": "x", "accessTags": [tag.id]})
        assert (await ok(client, "get_user_profile"))["id"] == ann.id

    async with mcp.ctx.db.session() as session:  # nothing of Bob's changed
        assert (await records.get_record(ITEMS, session, bob.id, item.id)).name == "bob's item"
        assert (await records.get_record(CLIENTS, session, bob.id, client_record.id)).name == "bob's client"
        assert (await records.get_record(TAGS, session, bob.id, tag.id)).name == "bob's"


@pytest.mark.parametrize(
    ("tool", "arguments", "says"),
    [
        ("create_user_item", {}, "'name' is required"),
        ("create_user_item", {"name": "   "}, "'name'"),
        ("create_user_tag", {"name": "x" * 256}, "'name'"),
        ("create_user_tag", {"name": "a\x00b"}, "'name'"),
        ("create_user_item", {"name": "x", "tags": ["nosuchtag"]}, "unknown tag id"),
        ("create_user_item", {"name": "x", "tags": ["Not An Id"]}, "'tags.0'"),
        ("create_user_client", {"name": "x", "accessTags": "abc"}, "'accessTags'"),
        ("get_user_item", {}, "'id' is required"),
        ("get_user_item", {"id": "nosuchitem0000"}, "item 'nosuchitem0000' not found"),
        ("get_user_client", {"id": "../../etc/passwd"}, "not found"),
        ("delete_user_tag", {"id": "nosuchtag"}, "tag 'nosuchtag' not found"),
        ("update_user_item", {"id": "abc"}, "Nothing to change"),
        ("update_user_client", {"id": "abc"}, "Nothing to change"),
        ("update_user_tag", {"id": "abc"}, "Nothing to change"),
        ("update_user_tag", {"id": "nosuchtag", "name": "x"}, "tag 'nosuchtag' not found"),
        ("get_user_items", {"serach": "x"}, "unknown argument(s) 'serach'"),
        ("get_user_items", {"perPage": 101}, "'perPage'"),
        ("get_user_items", {"page": 0}, "'page'"),
        ("get_user_tags", {"search": "a\x00"}, "'search'"),
        ("get_user_items", {"tag": "nosuchtag"}, "Invalid 'tag': no tag 'nosuchtag'"),
        ("get_user_items", {"sort": "newest"}, "'sort'"),
        ("get_user_profile", {"id": "x"}, "unknown argument(s) 'id'"),
        ("drop_all_tables", {}, "Unknown tool"),
    ],
    ids=[
        "missing-name", "blank-name", "name-too-long", "nul-in-name", "unknown-tag", "malformed-tag-id",
        "tags-not-a-list", "missing-id", "unknown-item", "path-as-id", "unknown-tag-delete", "item-no-change",
        "client-no-change", "tag-no-change", "unknown-tag-update", "misspelt-argument", "per-page-too-big",
        "page-zero", "nul-in-search", "unknown-tag-filter", "unknown-sort", "argument-to-profile", "unknown-tool",
    ],
)
async def test_tool_errors_say_what_was_wrong(
    mcp: McpService, member: Member, tool: str, arguments: dict[str, Any], says: str
) -> None:
    async with connect(mcp.url, member.token, "streamable-2026-07-28") as client:
        message = await failed(client, tool, arguments)
    assert says in message
    assert "Traceback" not in message and "pydantic" not in message


@pytest.mark.parametrize("transport", ["streamable-2026-07-28", "sse"])
async def test_a_tag_name_the_user_has_is_refused_naming_the_tag_that_has_it(mcp: McpService, transport: str) -> None:
    """Tag names are unique whatever their case (issue 14): the model is told which tag to use."""
    user = await mcp.user("Ann")
    async with connect(mcp.url, await mcp.token(user.id), transport) as client:
        work = await ok(client, "create_user_tag", {"name": "Work"})
        home = await ok(client, "create_user_tag", {"name": "home"})
        for tool, arguments in (("create_user_tag", {"name": " work"}),
                                ("update_user_tag", {"id": home["id"], "name": "WORK"})):
            message = await failed(client, tool, arguments)
            assert "You already have a tag named 'Work'" in message and work["id"] in message, message
        assert (await ok(client, "get_user_tags", {}))["totalItems"] == 2
