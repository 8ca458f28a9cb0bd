"""CSRF and clickjacking against the web app, over every route it has.

| attack | what must happen |
|---|---|
| another site posts any form for a signed-in user (no token; another session's token; the right token from another Origin) | 403; nothing changes: records, sessions, connected apps, pending consent |
| another site posts Allow to the consent page | 403; no code is issued, no consent recorded, the request is still pending |
| a link (GET) to any route, including the ones that also take forms (delete, revoke, logout) | nothing changes: a GET only shows a page or redirects |
| another site frames any page (or error page, or redirect) to hijack a click | refused by `frame-ancestors 'none'` and `X-Frame-Options: DENY` on every response |

``test_every_web_route_is_in_the_table`` fails when a route is added without a row. The web
engineer's tests/web/test_csrf.py checks each form's token rules one by one; this module checks
the consequences across every route.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from starlette.routing import Mount, Route

from axiom_mcp.app import create_auth_app, create_web_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import files, records, tokens
from axiom_mcp.data.kinds import CLIENTS, ITEMS, KINDS, TAGS
from axiom_mcp.data.schemas import ClientCreate, ItemCreate, PageQuery, TagCreate
from axiom_mcp.db.tables import OAuthAuthorizationRequest, OneTimeLink, User, WebSession
from axiom_mcp.oauth.consents import list_connected_apps
from tests.hardening.oauth_flow import Pkce, authorize_params, query_of, register
from tests.support.factories import TestUser, make_user
from tests.web.helpers import csrf_of, own_address, sign_in_directly

EVIL_ORIGIN = "https://evil.example"

# Every route of the web app: path -> fields of its form post (None: GET only).
WEB_ROUTES: dict[str, dict[str, str] | None] = {
    "/": None,
    "/auth": {"email": "{email}", "password": "{password}"},
    "/auth/signup": {"email": "new-{nonce}@example.com", "password": "a long password", "name": "N"},
    "/auth/logout": {},
    "/account": None,
    "/account/password": {"current_password": "{password}", "new_password": "another long one",
                          "confirm_password": "another long one"},
    "/account/profile": {"name": "Planted"},
    "/account/avatar": {"remove": "1"},
    "/account/avatar.png": None,
    "/account/export": {},
    "/account/sessions/others": {},
    "/account/tokens": {"token_name": "Planted"},
    "/account/tokens/revoke": {"token_id": "{token_id}"},
    "/account/delete": {"password": "{password}"},
    "/auth/forgot": {"email": "{email}"},
    "/auth/reset": {"token": "axol_unknown", "new_password": "another long one", "confirm_password": "another long one"},
    "/auth/verify": None,
    "/account/email": {"new_email": "new-{nonce}@example.com", "email_password": "{password}"},
    "/account/email/verify": {},
    "/account/email/confirm": {"token": "axol_unknown"},
    "/apps": None,
    "/apps/activity": None,
    "/apps/disconnect": None,
    "/apps/revoke": {"client_id": "{client_id}"},
    "/apps/change": {"client_id": "{client_id}", "scope": "profile:read", "sees": "all"},
    "/apps/disconnect-all": {},
    "/oauth/consent": {"request_id": "{request_id}", "decision": "allow"},
    "/oauth/authorize": None,
    "/robots.txt": None,
    "/items/{item_id}/files": {},
    "/items/{item_id}/files/{file_id}": None,
    "/items/{item_id}/files/{file_id}/delete": {},
    "/items/{record_id}/view": None,  # an item's read view (issue 14)
    "/clients/{record_id}/items": None,
    "/undo/{undo_id}": {},  # bring a deleted record back (a forged one would change the records)
    **{
        path: fields
        for plural in ("items", "clients", "tags")
        for path, fields in (
            (f"/{plural}", None),
            (f"/{plural}/new", {"name": "Planted"}),
            (f"/{plural}/{{record_id}}", {"name": "Renamed"}),
            (f"/{plural}/{{record_id}}/delete", {}),
        )
    },
}


def test_every_web_route_is_in_the_table(ctx: AppContext) -> None:
    app = create_web_app(ctx)
    found: dict[str, bool] = {}
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static", route.path  # static files: GET only, checked below
            continue
        assert isinstance(route, Route)
        found[route.path] = "POST" in (route.methods or set())
    assert found == {path: fields is not None for path, fields in WEB_ROUTES.items()}


@dataclass
class Browser:
    """A signed-in user's browser on the web app, and everything they own."""

    ctx: AppContext
    web: httpx.AsyncClient
    user: TestUser
    ids: dict[str, str]
    client_id: str
    request_id: str
    api_token_id: str

    def fill(self, template: str) -> str:
        record = template.split("/")[1] if template.count("/") > 1 else ""
        return (template.replace("{record_id}", self.ids.get(record, ""))
                .replace("{email}", self.user.email).replace("{password}", self.user.password)
                .replace("{client_id}", self.client_id).replace("{request_id}", self.request_id)
                .replace("{token_id}", self.api_token_id).replace("{undo_id}", self.ids["undo"])
                .replace("{item_id}", self.ids["items"]).replace("{file_id}", self.ids["file"])
                .replace("{nonce}", secrets.token_hex(4)))

    async def state(self) -> dict[str, Any]:
        """What a forged request could change."""
        async with self.ctx.db.session() as session:
            return {
                "records": [
                    await records.list_records(kind, session, self.user.id, PageQuery(perPage=100))
                    for kind in KINDS.values()
                ],
                "sessions": await session.scalar(
                    select(func.count()).select_from(WebSession).where(WebSession.user_id == self.user.id)),
                "apps": [(a.client_id, a.scopes, a.restricted, a.profile_id)
                         for a in await list_connected_apps(session, self.user.id)],
                "pending": await session.scalar(select(func.count()).select_from(OAuthAuthorizationRequest)
                                                .where(OAuthAuthorizationRequest.client_id == self.client_id)),
                "account": [(u.password_hash, u.email, u.name, u.avatar)
                            for u in [await session.get(User, self.user.id)] if u],
                "api_tokens": [t.id for t in await tokens.list_api_tokens(session, self.user.id)],
                "links": await session.scalar(select(func.count()).select_from(OneTimeLink)
                                              .where(OneTimeLink.user_id == self.user.id)),
                "files": await files.list_files(session, self.user.id, self.ids["items"]),
            }


@pytest.fixture
async def browser(ctx: AppContext) -> AsyncIterator[Browser]:
    user = await make_user(ctx, name="Ann")
    async with ctx.db.session() as session:
        tag = await records.create_record(TAGS, session, user.id, TagCreate(name="t"))
        item = await records.create_record(ITEMS, session, user.id, ItemCreate(name="i", tags=[tag.id]))
        client = await records.create_record(CLIENTS, session, user.id, ClientCreate(name="c"))
        gone = await records.create_record(ITEMS, session, user.id, ItemCreate(name="deleted", tags=[tag.id]))
        undo_id = (await records.delete_record(ITEMS, session, user.id, gone.id)).id

    async def content() -> AsyncIterator[bytes]:
        yield b"attached"

    file = await files.add_file(ctx.db, ctx.blobs, ctx.settings, user.id, item.id, "f.txt", content())
    auth_transport = httpx.ASGITransport(app=create_auth_app(ctx), client=(own_address(), 50001))
    web_transport = httpx.ASGITransport(app=create_web_app(ctx), client=(own_address(), 50000))
    async with (
        httpx.AsyncClient(transport=auth_transport, base_url=ctx.settings.public_url) as auth,
        httpx.AsyncClient(transport=web_transport, base_url=ctx.settings.web_url) as web,
    ):
        oauth_client = await register(auth)
        # An app the user already connected (for /apps/revoke), and a pending request (for consent).
        connected = await auth.get("/oauth/authorize", params=authorize_params(oauth_client, Pkce.new()))
        request_id = query_of(connected.headers["location"])["request_id"]
        await sign_in_directly(ctx, web, user.id)
        page = await web.get(f"/oauth/consent?request_id={request_id}")
        answer = await web.post("/oauth/consent", data={"request_id": request_id, "decision": "allow",
                                                        "csrf_token": csrf_of(page)})
        assert answer.status_code == 303, answer.text
        pending = await auth.get("/oauth/authorize", params=authorize_params(oauth_client, Pkce.new()))
        async with ctx.db.session() as session:
            _, api_token = await tokens.issue_api_token(session, ctx.settings, user.id, "a script")
        yield Browser(ctx, web, user, {"items": item.id, "clients": client.id, "tags": tag.id, "file": file.id,
                      "undo": undo_id},
                      oauth_client.client_id, query_of(pending.headers["location"])["request_id"], api_token.token_id)


POSTS = [path for path, fields in WEB_ROUTES.items() if fields is not None]


@pytest.mark.parametrize("path", POSTS)
async def test_forged_posts_change_nothing(browser: Browser, path: str) -> None:
    other = await make_user(browser.ctx, name="Mallory")
    async with httpx.AsyncClient(transport=browser.web._transport, base_url=str(browser.web.base_url)) as evil:
        await sign_in_directly(browser.ctx, evil, other.id)
        other_sessions_token = csrf_of(await evil.get("/"))
    own_token = csrf_of(await browser.web.get("/"))
    forgeries = {
        "no-token": ({}, {}),
        "another-sessions-token": ({"csrf_token": other_sessions_token}, {}),
        "right-token-other-origin": ({"csrf_token": own_token}, {"Origin": EVIL_ORIGIN}),
    }
    before = await browser.state()
    for forgery, (extra, headers) in forgeries.items():
        fields = {k: browser.fill(v) for k, v in (WEB_ROUTES[path] or {}).items()}
        response = await browser.web.post(browser.fill(path), data={**fields, **extra}, headers=headers)
        assert response.status_code == 403, (forgery, response.status_code, response.text[:300])
        assert await browser.state() == before, forgery


async def test_a_forged_allow_issues_no_code(browser: Browser) -> None:
    """The most valuable forgery: Allow on the consent page would hand the attacker's client a code."""
    before = await browser.state()
    response = await browser.web.post("/oauth/consent", data={"request_id": browser.request_id, "decision": "allow"},
                                      headers={"Origin": EVIL_ORIGIN})
    assert response.status_code == 403
    assert "location" not in response.headers and "code=" not in response.text
    assert await browser.state() == before
    assert before["pending"] == 1  # still waiting for the user's real answer


GETS = [path for path in WEB_ROUTES]


def _refuses_framing(response: httpx.Response) -> None:
    policy = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, (response.request.url, policy)
    assert response.headers.get("x-frame-options") == "DENY", response.request.url


@pytest.mark.parametrize("path", GETS)
async def test_a_link_to_any_route_changes_nothing_and_no_page_can_be_framed(browser: Browser, path: str) -> None:
    """A GET (an image tag, a link on another site) never acts: deletes, revokes and logouts need a
    post. And whatever it shows cannot be framed (clickjacking)."""
    before = await browser.state()
    query = f"?request_id={browser.request_id}" if path.startswith("/oauth/") else ""
    response = await browser.web.get(browser.fill(path) + query,
                                     params={"client_id": browser.client_id, "decision": "allow"})
    assert response.status_code < 500
    _refuses_framing(response)
    assert await browser.state() == before


@pytest.mark.parametrize(
    "path",
    ["/no-such-page", "/items/zzzzzzzzzzzzzzz", "/oauth/consent?request_id=axar_forged", "/static/style.css",
     "/auth?return_to=https://evil.example"],
    ids=["404", "unknown-record", "unknown-consent-request", "static", "refused-return-to"],
)
async def test_error_pages_and_files_cannot_be_framed_either(browser: Browser, path: str) -> None:
    _refuses_framing(await browser.web.get(path))


async def test_forms_posted_with_a_token_do_work(browser: Browser) -> None:
    """The control: the refusals above come from the forgery, not from a broken form."""
    token = csrf_of(await browser.web.get("/tags/new"))
    response = await browser.web.post("/tags/new", data={"name": "real", "csrf_token": token},
                                      headers={"Origin": browser.ctx.settings.web_url})
    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path.startswith("/tags")
