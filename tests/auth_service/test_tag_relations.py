"""Items' ``tags`` and clients' ``accessTags``: only the caller's own tags, expanded in one query."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from axiom_mcp.context import AppContext
from tests.auth_service.conftest import ITEMS, TAGGED, TAGS, Kind, assert_error, bearer, create, total, unknown_id
from tests.support.factories import TestUser

tagged = pytest.mark.parametrize("kind", TAGGED, ids=str)


async def make_tags(api: httpx.AsyncClient, user: TestUser, *names: str) -> list[dict[str, Any]]:
    return [await create(api, TAGS, user, name=name) for name in names]


@tagged
async def test_tags_are_stored_and_expanded(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    assert kind.tag_field
    work, home = await make_tags(api, user, "work", "home")
    record = await create(api, kind, user, **{kind.tag_field: [work["id"], home["id"], work["id"]]})
    # duplicates collapse; the order is by name, the same on every read
    assert record[kind.tag_field] == [home["id"], work["id"]]
    assert record["expand"][kind.tag_field] == [home, work]
    fetched = (await api.get(f"{kind.path}/{record['id']}", headers=bearer(user))).json()
    assert fetched == record
    listed = (await api.get(kind.path, headers=bearer(user))).json()["items"]
    assert listed == [record]


@tagged
async def test_patch_replaces_or_clears_the_tags(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    assert kind.tag_field
    a, b, c = await make_tags(api, user, "a", "b", "c")
    record = await create(api, kind, user, **{kind.tag_field: [a["id"], b["id"]]})
    url = f"{kind.path}/{record['id']}"

    renamed = (await api.patch(url, json={"name": "kept tags"}, headers=bearer(user))).json()
    assert renamed[kind.tag_field] == [a["id"], b["id"]]

    replaced = (await api.patch(url, json={kind.tag_field: [c["id"]]}, headers=bearer(user))).json()
    assert replaced[kind.tag_field] == [c["id"]]
    assert replaced["expand"][kind.tag_field] == [c]

    cleared = (await api.patch(url, json={kind.tag_field: []}, headers=bearer(user))).json()
    assert cleared[kind.tag_field] == [] and cleared["expand"][kind.tag_field] == []
    assert (await api.get(url, headers=bearer(user))).json() == cleared


@tagged
async def test_another_users_tag_is_refused_naming_the_field(
    api: httpx.AsyncClient, user: TestUser, other_user: TestUser, kind: Kind
) -> None:
    """The seed accepted another user's tag id; that let anyone attach (and read) it."""
    assert kind.tag_field
    (mine,) = await make_tags(api, user, "mine")
    (theirs,) = await make_tags(api, other_user, "Bob's secret tag")

    response = await api.post(kind.path, json={"name": "x", kind.tag_field: [mine["id"], theirs["id"]]},
                              headers=bearer(user))
    body = assert_error(response, 400, kind.tag_field)
    assert "Bob's secret tag" not in response.text
    assert theirs["id"] in body["data"][kind.tag_field]["message"]
    assert await total(api, kind, user) == 0

    record = await create(api, kind, user, **{kind.tag_field: [mine["id"]]})
    url = f"{kind.path}/{record['id']}"
    patch = await api.patch(url, json={kind.tag_field: [theirs["id"]]}, headers=bearer(user))
    assert_error(patch, 400, kind.tag_field)
    assert (await api.get(url, headers=bearer(user))).json() == record
    # and Bob's tag is untouched
    assert (await api.get(f"{TAGS.path}/{theirs['id']}", headers=bearer(other_user))).json() == theirs


def _bad_tags(field: str) -> list[Any]:
    return [
        pytest.param({field: [unknown_id()]}, field, id="unknown-id"),
        pytest.param({field: "notalist"}, field, id="not-a-list"),
        pytest.param({field: {"id": "x"}}, field, id="object"),
        pytest.param({field: [5]}, f"{field}.0", id="number-in-list"),
        pytest.param({field: [None]}, f"{field}.0", id="null-in-list"),
        pytest.param({field: ["NOT-AN-ID"]}, f"{field}.0", id="bad-characters"),
        pytest.param({field: [""]}, f"{field}.0", id="empty-id"),
        pytest.param({field: ["a" * 16]}, f"{field}.0", id="id-too-long"),
        pytest.param({field: ["a\x00"]}, f"{field}.0", id="nul-in-id"),
        pytest.param({field: [unknown_id() for _ in range(101)]}, field, id="too-many"),
    ]


@pytest.mark.parametrize(("body", "field"), _bad_tags("tags"))
async def test_bad_item_tags_are_a_400(api: httpx.AsyncClient, user: TestUser, body: dict[str, Any], field: str) -> None:
    await _check_bad_tags(api, user, ITEMS, body, field)


@pytest.mark.parametrize(("body", "field"), _bad_tags("accessTags"))
async def test_bad_client_access_tags_are_a_400(
    api: httpx.AsyncClient, user: TestUser, body: dict[str, Any], field: str
) -> None:
    from tests.auth_service.conftest import CLIENTS

    await _check_bad_tags(api, user, CLIENTS, body, field)


async def _check_bad_tags(api: httpx.AsyncClient, user: TestUser, kind: Kind, body: dict[str, Any], field: str) -> None:
    assert_error(await api.post(kind.path, json={"name": "x", **body}, headers=bearer(user)), 400, field)
    assert await total(api, kind, user) == 0
    record = await create(api, kind, user)
    url = f"{kind.path}/{record['id']}"
    assert_error(await api.patch(url, json=body, headers=bearer(user)), 400, field)
    assert (await api.get(url, headers=bearer(user))).json() == record


BAD_ITEM_FIELDS = [
    pytest.param({"content": 5}, "content", id="content-number"),
    pytest.param({"content": "x" * 100_001}, "content", id="content-too-long"),
    pytest.param({"content": "a\x00b"}, "content", id="content-nul"),
    pytest.param({"files": "a.pdf"}, "files", id="files-not-a-list"),
    pytest.param({"files": [""]}, "files.0", id="file-name-empty"),
    pytest.param({"files": ["f" * 1025]}, "files.0", id="file-name-too-long"),
    pytest.param({"files": ["f"] * 51}, "files", id="too-many-files"),
]


@pytest.mark.parametrize(("body", "field"), BAD_ITEM_FIELDS)
async def test_bad_item_fields_are_a_400(api: httpx.AsyncClient, user: TestUser, body: dict[str, Any], field: str) -> None:
    assert_error(await api.post(ITEMS.path, json={"name": "x", **body}, headers=bearer(user)), 400, field)
    record = await create(api, ITEMS, user)
    url = f"{ITEMS.path}/{record['id']}"
    assert_error(await api.patch(url, json=body, headers=bearer(user)), 400, field)
    assert (await api.get(url, headers=bearer(user))).json() == record


async def test_the_largest_item_content_is_kept_exactly(api: httpx.AsyncClient, user: TestUser) -> None:
    # Whole paragraphs (content is stored sanitized, so a paragraph cut in half would be closed).
    paragraph = "<p>héllo ☃ 😀</p>\n"
    count = (100_000 - 20) // len(paragraph)
    content = paragraph * count + "<p>" + "x" * (100_000 - count * len(paragraph) - 7) + "</p>"
    assert len(content) == 100_000
    record = await create(api, ITEMS, user, content=content)
    assert (await api.get(f"{ITEMS.path}/{record['id']}", headers=bearer(user))).json()["content"] == content


@contextmanager
def counting_statements(ctx: AppContext) -> Iterator[list[str]]:
    """Every statement this task runs meanwhile: on the engine, and on the read pool (db/reads.py).

    Only this task's: the engine is the run's, and another test's background work (an activity
    flush, a server shutting down) may use it at the same moment on a loaded machine."""
    statements: list[str] = []
    measuring = asyncio.current_task()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if asyncio.current_task() is measuring:
            statements.append(statement)

    reads = ctx.db.reads
    fetch = reads.fetch

    async def counted_fetch(sql: str, params: Any) -> Any:
        statements.append(sql)
        return await fetch(sql, params)

    engine = ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    reads.fetch = counted_fetch  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        del reads.fetch
        event.remove(engine, "before_cursor_execute", count)


@tagged
async def test_listing_expands_tags_in_one_query_not_one_per_record(
    ctx: AppContext, api: httpx.AsyncClient, user: TestUser, other_user: TestUser, kind: Kind
) -> None:
    assert kind.tag_field
    tags = await make_tags(api, user, "t1", "t2", "t3")
    for n in range(20):
        await create(api, kind, user, name=f"r{n}", **{kind.tag_field: [t["id"] for t in tags]})
    await create(api, kind, other_user, name="one")

    async def statements_to_list(person: TestUser) -> tuple[list[str], dict[str, Any]]:
        await api.get(kind.path, headers=bearer(person))  # the token is now verified and cached
        with counting_statements(ctx) as statements:
            response = await api.get(kind.path, params={"perPage": 50}, headers=bearer(person))
        assert response.status_code == 200
        return statements, response.json()

    many, body = await statements_to_list(user)
    one, _ = await statements_to_list(other_user)
    assert len(body["items"]) == 20
    assert all(len(r["expand"][kind.tag_field]) == 3 for r in body["items"])
    # One statement: the page, the tags of the whole page and (unless the page is partly filled,
    # when it is known without counting) the total; never more for more records.
    assert len(many) == len(one) == 1, (many, one)


async def test_deleting_a_tag_removes_it_from_items_and_clients(api: httpx.AsyncClient, user: TestUser) -> None:
    from tests.auth_service.conftest import CLIENTS

    keep, drop = await make_tags(api, user, "keep", "drop")
    item = await create(api, ITEMS, user, tags=[keep["id"], drop["id"]])
    client = await create(api, CLIENTS, user, accessTags=[drop["id"], keep["id"]])

    assert (await api.delete(f"{TAGS.path}/{drop['id']}", headers=bearer(user))).status_code == 204

    item_now = (await api.get(f"{ITEMS.path}/{item['id']}", headers=bearer(user))).json()
    client_now = (await api.get(f"{CLIENTS.path}/{client['id']}", headers=bearer(user))).json()
    assert item_now["tags"] == [keep["id"]] and item_now["expand"]["tags"] == [keep]
    assert client_now["accessTags"] == [keep["id"]] and client_now["expand"]["accessTags"] == [keep]


async def test_renaming_a_tag_shows_in_the_records_that_carry_it(api: httpx.AsyncClient, user: TestUser) -> None:
    (tag,) = await make_tags(api, user, "old name")
    item = await create(api, ITEMS, user, tags=[tag["id"]])
    renamed = (await api.patch(f"{TAGS.path}/{tag['id']}", json={"name": "new name"}, headers=bearer(user))).json()
    item_now = (await api.get(f"{ITEMS.path}/{item['id']}", headers=bearer(user))).json()
    assert item_now["expand"]["tags"] == [renamed]


async def test_deleting_a_record_leaves_its_tags(api: httpx.AsyncClient, user: TestUser) -> None:
    (tag,) = await make_tags(api, user, "survivor")
    item = await create(api, ITEMS, user, tags=[tag["id"]])
    assert (await api.delete(f"{ITEMS.path}/{item['id']}", headers=bearer(user))).status_code == 204
    assert (await api.get(f"{TAGS.path}/{tag['id']}", headers=bearer(user))).json() == tag
