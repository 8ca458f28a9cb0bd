"""Item content over REST (issue 14 item 1): written as HTML (the default), Markdown or text, always
stored and returned as sanitized HTML, with a plain-text ``excerpt``. SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from axiom_mcp.data import content
from tests.auth_service.conftest import ITEMS, assert_error, bearer, create
from tests.data.test_content import XSS, dangers
from tests.support.factories import TestUser


@pytest.mark.parametrize(
    ("written", "fmt", "stored", "excerpt"),
    [
        ("<p>Hi <em>there</em></p><script>alert(1)</script>", None, "<p>Hi <em>there</em></p>", "Hi there"),
        ("# Trip\n\nPack **socks**", "markdown", "<h1>Trip</h1>\n<p>Pack <strong>socks</strong></p>", "Trip Pack socks"),
        ("a <b> & c\n\nnext", "text", "<p>a &lt;b&gt; &amp; c</p><p>next</p>", "a <b> & c next"),
        ("plain words", "html", "plain words", "plain words"),
    ],
    ids=["html-by-default", "markdown", "text", "html"],
)
async def test_each_format_is_stored_as_sanitized_html_with_an_excerpt(
    api: httpx.AsyncClient, user: TestUser, written: str, fmt: str | None, stored: str, excerpt: str
) -> None:
    body = {"content": written} | ({"format": fmt} if fmt else {})
    item = await create(api, ITEMS, user, **body)
    assert (item["content"], item["excerpt"]) == (stored, excerpt)
    assert "format" not in item
    got = (await api.get(f"{ITEMS.path}/{item['id']}", headers=bearer(user))).json()
    assert (got["content"], got["excerpt"]) == (stored, excerpt)
    listed = (await api.get(ITEMS.path, headers=bearer(user))).json()["items"]
    assert [(i["content"], i["excerpt"]) for i in listed] == [(stored, excerpt)]


async def test_the_excerpt_follows_the_content_in_the_json(api: httpx.AsyncClient, user: TestUser) -> None:
    item = await create(api, ITEMS, user, content="<p>x</p>")
    assert list(item) == ["id", "user", "created", "updated", "name", "content", "excerpt", "files", "tags", "expand"]
    listed = (await api.get(ITEMS.path, headers=bearer(user))).json()["items"][0]
    assert list(listed) == list(item)


async def test_a_long_text_has_a_short_excerpt(api: httpx.AsyncClient, user: TestUser) -> None:
    item = await create(api, ITEMS, user, content="<h2>Minutes</h2>" + "<p>We talked at length.</p>" * 200)
    assert item["excerpt"].startswith("Minutes We talked at length. We talked")
    assert len(item["excerpt"]) <= content.EXCERPT_LENGTH and item["excerpt"].endswith("…")


async def test_patch_takes_a_format_too(api: httpx.AsyncClient, user: TestUser) -> None:
    item = await create(api, ITEMS, user, content="<p>old</p>")
    response = await api.patch(f"{ITEMS.path}/{item['id']}", json={"content": "- one\n- two", "format": "markdown"},
                               headers=bearer(user))
    assert response.status_code == 200, response.text
    assert response.json()["content"] == "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"
    assert response.json()["excerpt"] == "one two"
    renamed = await api.patch(f"{ITEMS.path}/{item['id']}", json={"name": "kept"}, headers=bearer(user))
    assert renamed.json()["content"] == response.json()["content"]  # a format alone changes nothing


async def test_an_unknown_format_is_a_400_naming_it(api: httpx.AsyncClient, user: TestUser) -> None:
    response = await api.post(ITEMS.path, json={"name": "x", "content": "y", "format": "rtf"}, headers=bearer(user))
    assert_error(response, 400, "format")


@pytest.mark.parametrize("payload", XSS)
@pytest.mark.parametrize("fmt", content.FORMATS)
async def test_no_payload_is_stored_or_returned(api: httpx.AsyncClient, user: TestUser, payload: str, fmt: str) -> None:
    item = await create(api, ITEMS, user, content=payload, format=fmt)
    got = (await api.get(f"{ITEMS.path}/{item['id']}", headers=bearer(user))).json()
    assert dangers(item["content"]) == dangers(got["content"]) == [], got["content"]
