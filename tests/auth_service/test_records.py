"""Items, clients and tags over REST: the five routes of each, their page shape and their scoping.

Every test runs on SQLite and on PostgreSQL (the ``ctx`` fixture), against the real app in process.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from axiom_mcp.context import AppContext
from tests.auth_service.conftest import KINDS, TAGS, Kind, assert_error, bearer, create, total, unknown_id
from tests.support.factories import TestUser, make_user

ID = re.compile(r"^[a-z0-9]{15}$")

kinds = pytest.mark.parametrize("kind", KINDS, ids=str)


def _parse(stamp: str) -> datetime:
    assert stamp.endswith("Z"), stamp
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# --- happy paths -----------------------------------------------------------------------------------


@kinds
async def test_create_answers_201_with_the_record(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    before = datetime.now(UTC)
    response = await api.post(kind.path, json={"name": "  First  ", **kind.extra}, headers=bearer(user))
    assert response.status_code == 201, response.text
    record = response.json()
    assert ID.match(record["id"])
    assert record["user"] == user.id
    assert record["name"] == "First"  # surrounding spaces are trimmed
    for key, value in kind.extra.items():
        assert record[key] == value
    created, updated = _parse(record["created"]), _parse(record["updated"])
    assert before <= created <= updated <= datetime.now(UTC)
    if kind.tag_field:
        assert record[kind.tag_field] == []
        assert record["expand"] == {kind.tag_field: []}


@kinds
async def test_get_returns_what_create_returned(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    record = await create(api, kind, user, **kind.extra)
    response = await api.get(f"{kind.path}/{record['id']}", headers=bearer(user))
    assert response.status_code == 200
    assert response.json() == record


@kinds
async def test_patch_changes_only_what_is_sent(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    record = await create(api, kind, user, **kind.extra)
    response = await api.patch(f"{kind.path}/{record['id']}", json={"name": "Renamed"}, headers=bearer(user))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "Renamed"
    assert changed["created"] == record["created"]
    assert _parse(changed["updated"]) > _parse(record["updated"])
    unchanged = {k: v for k, v in record.items() if k not in ("name", "updated")}
    assert {k: changed[k] for k in unchanged} == unchanged
    again = await api.get(f"{kind.path}/{record['id']}", headers=bearer(user))
    assert again.json() == changed


@kinds
async def test_patch_with_nothing_or_null_keeps_the_values(
    api: httpx.AsyncClient, user: TestUser, kind: Kind
) -> None:
    record = await create(api, kind, user, **kind.extra)
    for body in ({}, {"name": None}):
        response = await api.patch(f"{kind.path}/{record['id']}", json=body, headers=bearer(user))
        assert response.status_code == 200, response.text
        assert response.json()["name"] == record["name"]


@kinds
async def test_delete_answers_204_and_the_record_is_gone(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    record = await create(api, kind, user)
    response = await api.delete(f"{kind.path}/{record['id']}", headers=bearer(user))
    assert response.status_code == 204
    assert response.content == b""
    assert_error(await api.get(f"{kind.path}/{record['id']}", headers=bearer(user)), 404)
    assert_error(await api.delete(f"{kind.path}/{record['id']}", headers=bearer(user)), 404)
    assert await total(api, kind, user) == 0


@kinds
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "record_id",
    [
        pytest.param("0" * 15, id="unknown"),
        pytest.param("short", id="too-short"),
        pytest.param("x" * 300, id="too-long"),
        pytest.param("UPPERCASE000000", id="uppercase"),
        pytest.param("abc%00def", id="nul"),
        pytest.param("%C3%A9t%C3%A9", id="non-ascii"),
        pytest.param("a%20b", id="space"),
    ],
)
async def test_an_id_that_names_nothing_is_a_json_404(
    api: httpx.AsyncClient, user: TestUser, kind: Kind, method: str, record_id: str
) -> None:
    response = await api.request(method, f"{kind.path}/{record_id}", json={}, headers=bearer(user))
    assert_error(response, 404)


# --- lists ----------------------------------------------------------------------------------------


@kinds
async def test_an_empty_list_has_the_page_shape(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    response = await api.get(kind.path, headers=bearer(user))
    assert response.status_code == 200
    assert response.json() == {"page": 1, "perPage": 30, "totalItems": 0, "totalPages": 0, "items": []}


@kinds
async def test_lists_are_newest_first_and_paginated(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    made = [await create(api, kind, user, name=f"record {n:02}") for n in range(25)]
    newest_first = [r["id"] for r in reversed(made)]

    seen: list[str] = []
    for page, size in ((1, 10), (2, 10), (3, 5)):
        response = await api.get(kind.path, params={"page": page, "perPage": 10}, headers=bearer(user))
        assert response.status_code == 200
        body = response.json()
        assert (body["page"], body["perPage"], body["totalItems"], body["totalPages"]) == (page, 10, 25, 3)
        assert len(body["items"]) == size
        seen += [r["id"] for r in body["items"]]
    assert seen == newest_first

    past_the_end = (await api.get(kind.path, params={"page": 4, "perPage": 10}, headers=bearer(user))).json()
    assert past_the_end["items"] == [] and past_the_end["totalItems"] == 25

    everything = (await api.get(kind.path, params={"perPage": 100}, headers=bearer(user))).json()
    assert [r["id"] for r in everything["items"]] == newest_first
    assert everything["items"][0] == made[-1]  # list entries are the same records get returns


@pytest.mark.parametrize("kind", [k for k in KINDS if k.plural != "items"], ids=str)
async def test_q_filters_names_case_insensitively_and_literally(
    api: httpx.AsyncClient, user: TestUser, kind: Kind
) -> None:
    """Clients and tags by a part of the name (items by words: tests/auth_service/test_search.py)."""
    for name in ["Alpha one", "beta ALPHA", "gamma", "100% sure", "100x sure", "snake_case", "snakeXcase"]:
        await create(api, kind, user, name=name)

    async def names(q: str) -> list[str]:
        response = await api.get(kind.path, params={"q": q}, headers=bearer(user))
        assert response.status_code == 200
        body = response.json()
        assert body["totalItems"] == len(body["items"])
        return sorted(r["name"] for r in body["items"])

    assert await names("alpha") == ["Alpha one", "beta ALPHA"]
    assert await names("GAMMA") == ["gamma"]
    assert await names("100%") == ["100% sure"]  # % and _ are text, not wildcards
    assert await names("e_c") == ["snake_case"]
    assert await names("nothing like it") == []
    assert len(await names("")) == 7


async def test_q_also_searches_item_content(api: httpx.AsyncClient, user: TestUser) -> None:
    from tests.auth_service.conftest import ITEMS

    await create(api, ITEMS, user, name="plain", content="the secret word is Rosebud")
    await create(api, ITEMS, user, name="other", content="nothing")
    body = (await api.get(ITEMS.path, params={"q": "rosebud"}, headers=bearer(user))).json()
    assert [r["name"] for r in body["items"]] == ["plain"]


@kinds
async def test_the_totals_count_the_filtered_records(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    for n in range(7):
        await create(api, kind, user, name=f"{'match' if n % 2 else 'other'} {n}")
    body = (await api.get(kind.path, params={"q": "match", "perPage": 2}, headers=bearer(user))).json()
    assert (body["totalItems"], body["totalPages"], len(body["items"])) == (3, 2, 2)


@kinds
@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"perPage": "0"}, "perPage", id="perPage-0"),
        pytest.param({"perPage": "101"}, "perPage", id="perPage-101"),
        pytest.param({"perPage": "-1"}, "perPage", id="perPage-negative"),
        pytest.param({"perPage": "9" * 40}, "perPage", id="perPage-huge"),
        pytest.param({"perPage": "ten"}, "perPage", id="perPage-not-a-number"),
        pytest.param({"perPage": "1.5"}, "perPage", id="perPage-fraction"),
        pytest.param({"page": "0"}, "page", id="page-0"),
        pytest.param({"page": "-1"}, "page", id="page-negative"),
        pytest.param({"page": "9" * 40}, "page", id="page-huge"),
        pytest.param({"page": "1000001"}, "page", id="page-over-the-cap"),
        pytest.param({"page": "first"}, "page", id="page-not-a-number"),
        pytest.param({"page": ""}, "page", id="page-empty"),
        pytest.param({"q": "x" * 201}, "q", id="q-too-long"),
        pytest.param({"q": "a\x00b"}, "q", id="q-nul"),
        pytest.param({"sort": "newest"}, "sort", id="sort-unknown"),
        pytest.param({"sort": "-created,name"}, "sort", id="sort-several"),
        pytest.param({"tag": "t" * 256}, "tag", id="tag-too-long"),
        pytest.param({"tag": "a\x00b"}, "tag", id="tag-nul"),
    ],
)
async def test_bad_list_parameters_are_a_400_naming_them(
    api: httpx.AsyncClient, user: TestUser, kind: Kind, params: dict[str, str], field: str
) -> None:
    assert_error(await api.get(kind.path, params=params, headers=bearer(user)), 400, field)


@kinds
async def test_the_largest_allowed_parameters_work(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    params = {"page": "1000000", "perPage": "100", "q": "x" * 200}
    response = await api.get(kind.path, params=params, headers=bearer(user))
    assert response.status_code == 200
    assert response.json()["items"] == []


@kinds
async def test_unknown_list_parameters_are_ignored(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    """PocketBase clients send filter/expand (and sort, which is ours now); they must not break the call."""
    await create(api, kind, user)
    response = await api.get(kind.path, params={"filter": "x", "expand": "tags"}, headers=bearer(user))
    assert response.status_code == 200
    assert response.json()["totalItems"] == 1


# --- another user's records -----------------------------------------------------------------------


@kinds
async def test_another_users_record_is_a_404_and_stays_untouched(
    api: httpx.AsyncClient, user: TestUser, other_user: TestUser, kind: Kind
) -> None:
    theirs = await create(api, kind, other_user, name="Bob's private record")
    url = f"{kind.path}/{theirs['id']}"

    for response in (
        await api.get(url, headers=bearer(user)),
        await api.patch(url, json={"name": "stolen"}, headers=bearer(user)),
        await api.delete(url, headers=bearer(user)),
    ):
        body = assert_error(response, 404)
        assert "Bob's private record" not in response.text
        assert body["data"] == {}
    # exactly the answer for an id that does not exist
    missing = await api.get(f"{kind.path}/{unknown_id()}", headers=bearer(user))
    assert missing.status_code == 404

    still = await api.get(url, headers=bearer(other_user))
    assert still.status_code == 200
    assert still.json() == theirs


@kinds
async def test_lists_show_only_the_callers_records(
    api: httpx.AsyncClient, user: TestUser, other_user: TestUser, kind: Kind
) -> None:
    mine = await create(api, kind, user, name="shared word mine")
    await create(api, kind, other_user, name="shared word theirs")
    for params in ({}, {"q": "shared word"}):
        body = (await api.get(kind.path, params=params, headers=bearer(user))).json()
        assert [r["id"] for r in body["items"]] == [mine["id"]]
        assert body["totalItems"] == 1


@kinds
@pytest.mark.parametrize("field", ["user", "id", "created"])
async def test_a_record_cannot_be_made_for_someone_else_or_with_chosen_fields(
    api: httpx.AsyncClient, user: TestUser, other_user: TestUser, kind: Kind, field: str
) -> None:
    value = {"user": other_user.id, "id": unknown_id(), "created": "2020-01-01T00:00:00Z"}[field]
    response = await api.post(kind.path, json={"name": "sneaky", field: value}, headers=bearer(user))
    assert_error(response, 400, field)
    record = await create(api, kind, user)
    patch = await api.patch(f"{kind.path}/{record['id']}", json={field: value}, headers=bearer(user))
    assert_error(patch, 400, field)
    assert await total(api, kind, other_user) == 0
    assert (await api.get(f"{kind.path}/{record['id']}", headers=bearer(user))).json() == record


# --- bad bodies -----------------------------------------------------------------------------------

BAD_NAMES = [
    pytest.param({}, "name", id="name-missing"),
    pytest.param({"name": 5}, "name", id="name-number"),
    pytest.param({"name": ["a"]}, "name", id="name-list"),
    pytest.param({"name": ""}, "name", id="name-empty"),
    pytest.param({"name": "   "}, "name", id="name-blank"),
    pytest.param({"name": "x" * 256}, "name", id="name-too-long"),
    pytest.param({"name": "a\x00b"}, "name", id="name-nul"),
    pytest.param({"name": "ok", "colour": "red"}, "colour", id="unknown-field"),
]


@kinds
@pytest.mark.parametrize(("body", "field"), BAD_NAMES)
async def test_bad_create_bodies_are_a_400_naming_the_field(
    api: httpx.AsyncClient, user: TestUser, kind: Kind, body: dict[str, object], field: str
) -> None:
    assert_error(await api.post(kind.path, json=body, headers=bearer(user)), 400, field)
    assert await total(api, kind, user) == 0


@kinds
@pytest.mark.parametrize(("body", "field"), [p for p in BAD_NAMES if p.id != "name-missing"])
async def test_bad_patch_bodies_are_a_400_and_change_nothing(
    api: httpx.AsyncClient, user: TestUser, kind: Kind, body: dict[str, object], field: str
) -> None:
    record = await create(api, kind, user)
    url = f"{kind.path}/{record['id']}"
    assert_error(await api.patch(url, json=body, headers=bearer(user)), 400, field)
    assert (await api.get(url, headers=bearer(user))).json() == record


@kinds
async def test_the_longest_name_is_accepted(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    record = await create(api, kind, user, name="é" * 255)
    assert record["name"] == "é" * 255


RAW_BODIES = [
    pytest.param(b'{"name": "unfinished', "application/json", 400, id="malformed-json"),
    pytest.param(b"{'name': 'x'}", "application/json", 400, id="single-quoted-json"),
    pytest.param(b"\xff\xfe\x00", "application/json", 400, id="not-utf8"),
    pytest.param(b"[]", "application/json", 400, id="array"),
    pytest.param(b'"name"', "application/json", 400, id="string"),
    pytest.param(b"null", "application/json", 400, id="null"),
    pytest.param(b"", "application/json", 400, id="empty"),
    pytest.param(b'{"name": "x"}', "text/plain", 415, id="text-plain"),
    pytest.param(b"name=x", "application/x-www-form-urlencoded", 415, id="form"),
]


@kinds
@pytest.mark.parametrize(("content", "content_type", "status"), RAW_BODIES)
async def test_bodies_that_are_not_a_json_object_are_refused_as_json(
    api: httpx.AsyncClient, user: TestUser, kind: Kind, content: bytes, content_type: str, status: int
) -> None:
    headers = {**bearer(user), "content-type": content_type}
    assert_error(await api.post(kind.path, content=content, headers=headers), status, "body")
    record = await create(api, kind, user)
    patch = await api.patch(f"{kind.path}/{record['id']}", content=content, headers=headers)
    assert_error(patch, status, "body")
    assert await total(api, kind, user) == 1


@kinds
async def test_json_without_a_content_type_is_read_as_json(api: httpx.AsyncClient, user: TestUser, kind: Kind) -> None:
    response = await api.post(kind.path, content=b'{"name": "no type"}', headers=bearer(user))
    assert response.status_code == 201, response.text


@kinds
@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_a_huge_body_is_a_json_413(api: httpx.AsyncClient, user: TestUser, kind: Kind, streamed: bool) -> None:
    huge = b'{"name": "x", "content": "' + b"y" * (3 * 1024 * 1024) + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536]

    headers = {**bearer(user), "content-type": "application/json"}
    response = await api.post(kind.path, content=chunks() if streamed else huge, headers=headers)
    assert_error(response, 413, "body")
    assert await total(api, kind, user) == 0


# --- many writers at once -------------------------------------------------------------------------


@kinds
async def test_concurrent_writes_all_succeed(ctx: AppContext, api: httpx.AsyncClient, kind: Kind) -> None:
    """SQLite has one writer at a time; waiting for it must never surface as an error."""
    import asyncio

    people = [await make_user(ctx) for _ in range(3)]
    records = await asyncio.gather(*(create(api, kind, p, name=f"c{n}") for n in range(8) for p in people))
    assert len(records) == 24
    updates = await asyncio.gather(
        *(api.patch(f"{kind.path}/{r['id']}", json={"name": f"changed {r['name']}"}, headers=bearer(p))
          for r in records for p in people if p.id == r["user"])
    )
    assert [u.status_code for u in updates] == [200] * 24
    deletes = await asyncio.gather(
        *(api.delete(f"{kind.path}/{r['id']}", headers=bearer(p)) for r in records for p in people if p.id == r["user"])
    )
    assert [d.status_code for d in deletes] == [204] * 24
    for person in people:
        assert await total(api, kind, person) == 0



# --- tag names: unique per person, whatever their case (issue 14) -------------------------------------


async def test_a_tag_name_the_person_has_is_a_409_naming_name(api: httpx.AsyncClient, user: TestUser) -> None:
    tags = TAGS
    work = await create(api, tags, user, name="Work")
    home = await create(api, tags, user, name="home")
    for response in (
        await api.post(tags.path, json={"name": "  wORK "}, headers=bearer(user)),
        await api.patch(f"{tags.path}/{home['id']}", json={"name": "WORK"}, headers=bearer(user)),
    ):
        body = assert_error(response, 409, "name")
        assert body["data"]["name"]["code"] == "conflict"
        assert "You already have a tag named 'Work'" in body["data"]["name"]["message"]
    renamed = await api.patch(f"{tags.path}/{work['id']}", json={"name": "WORK"}, headers=bearer(user))
    assert renamed.status_code == 200 and renamed.json()["name"] == "WORK"  # its own name, in another case
    assert await total(api, tags, user) == 2


async def test_concurrent_creates_of_one_tag_name_make_one_tag_and_clear_409s(
    api: httpx.AsyncClient, user: TestUser
) -> None:
    import asyncio

    tags = TAGS
    responses = await asyncio.gather(
        *(api.post(tags.path, json={"name": name}, headers=bearer(user)) for name in ["Same", "SAME", "same"] * 4)
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 11
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "name")
    assert await total(api, tags, user) == 1
