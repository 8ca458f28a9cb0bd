"""Items found by words, filtered by tag and sorted over REST (``GET /api/v1/user/items?q=&tag=&sort=``),
on SQLite and PostgreSQL, through the real app in process."""

from __future__ import annotations

import httpx
import pytest

from tests.auth_service.conftest import CLIENTS, ITEMS, TAGS, assert_error, bearer, create
from tests.support.factories import TestUser


async def _names(api: httpx.AsyncClient, user: TestUser, **params: str) -> list[str]:
    response = await api.get(ITEMS.path, params={"perPage": "100", **params}, headers=bearer(user))
    assert response.status_code == 200, response.text
    return [r["name"] for r in response.json()["items"]]


async def test_search_ranks_the_exact_name_first_and_ignores_accents(api: httpx.AsyncClient, user: TestUser) -> None:
    await create(api, ITEMS, user, name="Émoji", content="<p>faces</p>")
    await create(api, ITEMS, user, name="About emoji sets", content="<p>many Emoji, emoji, émoji</p>")
    await create(api, ITEMS, user, name="unrelated", content="<p>an emoji once</p>")
    assert await _names(api, user, q="EMOJI") == ["Émoji", "About emoji sets", "unrelated"]


async def test_tag_and_file_names_find_their_items(api: httpx.AsyncClient, user: TestUser) -> None:
    work = await create(api, TAGS, user, name="work")
    await create(api, ITEMS, user, name="tagged", tags=[work["id"]])
    await create(api, ITEMS, user, name="listed", files=["Quarterly-Plan.pdf"])
    assert await _names(api, user, q="work") == ["tagged"]
    assert await _names(api, user, q="quarterly plan") == ["listed"]


async def test_tag_filter_by_id_or_name_and_sorts(api: httpx.AsyncClient, user: TestUser) -> None:
    red = await create(api, TAGS, user, name="Red")
    await create(api, ITEMS, user, name="b", tags=[red["id"]])
    await create(api, ITEMS, user, name="a", tags=[red["id"]])
    await create(api, ITEMS, user, name="c")
    assert await _names(api, user, tag="RED") == ["a", "b"]  # newest first
    assert await _names(api, user, tag=red["id"], sort="name") == ["a", "b"]
    assert await _names(api, user, tag="red", sort="created") == ["b", "a"]
    assert await _names(api, user, sort="name") == ["a", "b", "c"]
    assert await _names(api, user, sort="-updated") == ["c", "a", "b"]
    assert await _names(api, user, tag="red", q="b") == ["b"]


@pytest.mark.parametrize("tag", ["nosuch", "aaaaaaaaaaaaaaa", "../x", "'; DROP TABLE tags; --"])
async def test_an_unknown_tag_is_a_400_naming_tag(api: httpx.AsyncClient, user: TestUser, other_user: TestUser,
                                                  tag: str) -> None:
    assert_error(await api.get(ITEMS.path, params={"tag": tag}, headers=bearer(user)), 400, "tag")


async def test_another_persons_tag_is_unknown(api: httpx.AsyncClient, user: TestUser, other_user: TestUser) -> None:
    theirs = await create(api, TAGS, other_user, name="theirs")
    for tag in (theirs["id"], "theirs"):
        assert_error(await api.get(ITEMS.path, params={"tag": tag}, headers=bearer(user)), 400, "tag")
    assert_error(await api.get(TAGS.path, params={"tag": "x"}, headers=bearer(user)), 400, "tag")
    response = await api.get(CLIENTS.path, params={"tag": theirs["id"]}, headers=bearer(other_user))
    assert response.status_code == 200 and response.json()["items"] == []


@pytest.mark.parametrize("q", [
    '"', "'", "*", "a OR b", "NEAR(a b)", "-a", "a:*", "!(a|b)", "\\", "{name}:a", "%_", "...", "🙂",
    "x" * 200, " ".join("w" * 5 for _ in range(33)),
], ids=lambda q: repr(q[:10]))
async def test_hostile_queries_are_a_200_with_sane_results(api: httpx.AsyncClient, user: TestUser, q: str) -> None:
    await create(api, ITEMS, user, name="a b")
    response = await api.get(ITEMS.path, params={"q": q}, headers=bearer(user))
    assert response.status_code == 200, response.text
    assert response.json()["totalItems"] <= 1


async def test_a_query_too_long_is_a_400_naming_q(api: httpx.AsyncClient, user: TestUser) -> None:
    assert_error(await api.get(ITEMS.path, params={"q": "a" * 10_000}, headers=bearer(user)), 400, "q")
