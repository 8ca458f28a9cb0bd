"""An item's read view and its form's rich text, over HTTP (issue 14 item 1): what the form stores
from the editor and without it, and what the pages show. SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import ItemCreate
from tests.support.factories import TestUser
from tests.web.helpers import submit
from tests.web.test_records_pages import listed


async def stored(ctx: AppContext, user: TestUser, name: str) -> str:
    [record] = [r for r in await listed(ctx, "items", user.id) if r.name == name]
    return str(record.content)


async def test_the_form_stores_the_editors_html_sanitized(ctx: AppContext, signed_in: httpx.AsyncClient,
                                                          user: TestUser) -> None:
    sent = '<h2>Plan</h2><p>Hi <b>there</b> <a href="javascript:alert(1)">x</a></p><img src=x onerror=alert(1)>'
    response = await submit(signed_in, "/items/new", name="edited", content=sent, format="html")
    assert response.status_code == 303
    assert await stored(ctx, user, "edited") == "<h2>Plan</h2><p>Hi <b>there</b> <a rel=\"noopener noreferrer nofollow\">x</a></p>"


async def test_without_the_editor_the_field_takes_markdown_or_html(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    await submit(signed_in, "/items/new", name="md", content="**bold** and 1 < 2", format="")
    assert await stored(ctx, user, "md") == "<p><strong>bold</strong> and 1 &lt; 2</p>"
    await submit(signed_in, "/items/new", name="html", content="<p><em>html</em></p><script>x()</script>")
    assert await stored(ctx, user, "html") == "<p><em>html</em></p>"


async def test_a_form_with_errors_shows_the_content_sanitized(signed_in: httpx.AsyncClient) -> None:
    response = await submit(signed_in, "/items/new", name="", content='<p onclick="x()">kept</p><script>x()</script>',
                            format="html")
    assert response.status_code == 400
    assert "&lt;p&gt;kept&lt;/p&gt;</textarea>" in response.text  # what the editor loads: sanitized
    assert "onclick" not in response.text and "x()" not in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<script src="/static/editor.js" defer></script>' in response.text


async def test_the_read_view_shows_sanitized_html_and_old_text_as_paragraphs(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser, other_user: TestUser
) -> None:
    async with ctx.db.session() as session:
        rich = await records.create_record(ITEMS, session, user.id, ItemCreate(
            name="<b>Rich</b>", content="# Title\n\n- one\n- [two](https://example.com/)", format="markdown"))
        old = await records.create_record(ITEMS, session, user.id, ItemCreate(name="Old", content="x"))
        (await session.get(ITEMS.table, old.id)).content = 'line one\nline two <img src=x onerror="alert(1)">'
    page = await signed_in.get(f"/items/{rich.id}/view")
    assert page.status_code == 200
    assert "<h1>&lt;b&gt;Rich&lt;/b&gt;</h1>" in page.text  # the name is text
    assert '<div class="rich"><h1>Title</h1>\n<ul>\n<li>one</li>\n<li><a href="https://example.com/"' in page.text
    assert f'href="/items/{rich.id}">Edit</a>' in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    legacy = await signed_in.get(f"/items/{old.id}/view")
    assert '<div class="rich">line one\nline two</div>' in legacy.text and "onerror" not in legacy.text
    edit = await signed_in.get(f"/items/{old.id}")
    assert "onerror" not in edit.text

    listing = await signed_in.get("/items")
    assert f'href="/items/{rich.id}/view" class="row-title row-link"' in listing.text
    assert '<p class="snippet">Title one two</p>' in listing.text

    assert (await signed_in.get(f"/items/{rich.id}x/view")).status_code == 404
    async with ctx.db.session() as session:
        theirs = await records.create_record(ITEMS, session, other_user.id, ItemCreate(name="theirs"))
    assert (await signed_in.get(f"/items/{theirs.id}/view")).status_code == 404
    assert (await signed_in.get("/tags/abc/view")).status_code == 404  # only kinds with rich text have one
