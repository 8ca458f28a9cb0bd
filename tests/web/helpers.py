"""Helpers of the web tests: forms with their CSRF token, signing in, OAuth requests to consent to."""

from __future__ import annotations

import html
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Page

from axiom_mcp.context import AppContext
from axiom_mcp.data import web_sessions
from axiom_mcp.oauth.pkce import s256

_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
CALLBACK = "https://claude.ai/api/mcp/auth_callback"


def own_address() -> str:
    """A client address of the test's own, so login throttling never links two tests."""
    return f"203.0.{secrets.randbelow(113)}.{secrets.randbelow(250) + 1}"


def csrf_of(page: httpx.Response | str) -> str:
    text = page if isinstance(page, str) else page.text
    found = _TOKEN.search(text)
    assert found, "the page has no CSRF token"
    return html.unescape(found.group(1))


async def submit(client: httpx.AsyncClient, page_path: str, action: str | None = None,
                 **fields: Any) -> httpx.Response:
    """Open ``page_path``, take its CSRF token, post ``fields`` to ``action`` (default: the same path)."""
    page = await client.get(page_path)
    assert page.status_code == 200, (page_path, page.status_code, page.text[:500])
    data = {"csrf_token": csrf_of(page), **fields}
    return await client.post(action or page_path, data=data)


async def sign_in_directly(ctx: AppContext, client: httpx.AsyncClient, user_id: str,
                           cookie: str = "axiom_session") -> str:
    """A session made by the data layer (as a login would), its cookie given to ``client``."""
    async with ctx.db.session() as session:
        raw, _ = await web_sessions.create_session(session, user_id, ctx.settings.web_session_ttl)
    set_cookie(client, cookie, raw)
    return raw


def set_cookie(client: httpx.AsyncClient, name: str, value: str) -> None:
    """Set a cookie as the server would have (host-only; the jar spells a dotless host "host.local")."""
    host = client.base_url.host
    domain = host if "." in host or ":" in host else f"{host}.local"
    client.cookies.set(name, value, domain=domain, path="/")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def register_client(auth: httpx.AsyncClient, *, name: str = "Claude", redirect_uri: str = CALLBACK,
                          **metadata: Any) -> str:
    """POST /oauth/register (RFC 7591): the new client_id."""
    body = {"client_name": name, "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none", **metadata}
    response = await auth.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["client_id"])


async def pending_request(auth: httpx.AsyncClient, client_id: str, *, redirect_uri: str = CALLBACK,
                          scope: str | None = None, state: str = "st-123", **extra: str) -> tuple[str, str]:
    """GET /oauth/authorize on the auth service: (the consent page path it sends the browser to, verifier)."""
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        "state": state,
    }
    if scope:
        params["scope"] = scope
    params.update(extra)
    response = await auth.get("/oauth/authorize", params=params)
    assert response.status_code in (302, 303), response.text
    location = urlsplit(response.headers["location"])
    assert location.path == "/oauth/consent"
    return f"{location.path}?{location.query}", verifier


class Screenshots:
    """Saves full-page screenshots under test-artifacts/screenshots and remembers them for the summary."""

    def __init__(self, folder: Path, taken: list[Path], prefix: str) -> None:
        self.folder = folder
        self.taken = taken
        self.prefix = prefix

    async def save(self, page: Page, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}-{self.prefix}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path
