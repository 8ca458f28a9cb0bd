"""Headers: no page may be framed (CSP frame-ancestors 'none' and X-Frame-Options), cookies are
HttpOnly and SameSite=Lax, and Secure with the __Host- prefix behind https."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.web.app import create_web_app
from axiom_mcp.web.security import content_security_policy, csp_source
from tests.support.factories import TestUser
from tests.web.helpers import own_address, submit

PAGES = ["/auth", "/auth/signup", "/", "/items", "/items/new", "/tags", "/clients", "/apps", "/account",
         "/auth/logout", "/oauth/consent?request_id=unknown", "/no-such-page", "/items/zzz", "/items/zzz/view",
         "/static/style.css"]

PAGES_WITH_OWN_SCRIPTS = {"/", "/apps", "/items/new"}  # /items/new: the rich-text editor (issue 14)


def directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize("path", PAGES)
async def test_every_response_refuses_to_be_framed(signed_in: httpx.AsyncClient, path: str) -> None:
    response = await signed_in.get(path)
    assert response.status_code in (200, 303, 400, 404)
    assert directives(response)["frame-ancestors"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    if path in PAGES_WITH_OWN_SCRIPTS:  # the copy button, the editor: Axiom's own files only
        assert directives(response)["script-src"] == "'self'"
    else:
        assert "script-src" not in directives(response)  # default-src 'none': no script runs at all
    assert directives(response)["default-src"] == "'none'"


@pytest.mark.parametrize("path", ["/auth", "/"])
async def test_pages_are_not_cached(signed_in: httpx.AsyncClient, path: str) -> None:
    response = await signed_in.get(path)
    assert response.headers["cache-control"] == "no-store"


async def test_an_anonymous_visitor_gets_the_headers_too(web: httpx.AsyncClient) -> None:
    for path in ("/auth", "/", "/no-such-page"):
        response = await web.get(path)
        assert directives(response)["frame-ancestors"] == "'none'"
        assert response.headers["x-frame-options"] == "DENY"


async def test_the_session_cookie_is_httponly_and_lax(web: httpx.AsyncClient, user: TestUser) -> None:
    response = await submit(web, "/auth", email=user.email, password=user.password)
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("axiom_session="))
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes  # http://localhost: a Secure cookie would never come back


async def test_the_csrf_cookie_is_httponly_and_lax(web: httpx.AsyncClient) -> None:
    response = await web.get("/auth")
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("axiom_csrf="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


@pytest.fixture
async def https_web(ctx: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    settings = ctx.settings.model_copy(update={"web_url": "https://app.example.com"})
    app = create_web_app(AppContext(settings=settings, db=ctx.db))
    transport = httpx.ASGITransport(app=app, client=(own_address(), 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://app.example.com") as client:
        yield client


async def test_behind_https_cookies_are_secure_host_only_and_hsts_is_sent(
    https_web: httpx.AsyncClient, user: TestUser
) -> None:
    page = await https_web.get("/auth")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    csrf_cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith("__Host-axiom_csrf="))
    assert re.search(r";\s*secure", csrf_cookie, re.I)
    response = await submit(https_web, "/auth", email=user.email, password=user.password)
    assert response.status_code == 303, response.text
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-axiom_session="))
    lowered = cookie.lower()
    assert "; secure" in lowered and "; httponly" in lowered and "samesite=lax" in lowered
    assert "domain=" not in lowered and "path=/" in lowered  # what the __Host- prefix demands
    assert (await https_web.get("/")).status_code == 200  # and the cookie signs the browser in


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://claude.ai/api/mcp/auth_callback", "https://claude.ai"),
        ("http://127.0.0.1:5123/callback?x=1", "http://127.0.0.1:5123"),
        ("http://[::1]:8000/cb", "http://[::1]:8000"),
        ("cursor://anysphere.cursor-retrieval/oauth/callback", "cursor:"),
        ("https://evil.com; script-src *", None),
        ("https://a b.com/", None),
    ],
    ids=["https", "loopback-port", "ipv6-loopback", "custom-scheme", "injection", "space"],
)
def test_csp_sources_for_redirects(url: str, source: str | None) -> None:
    assert csp_source(url) == source


def test_the_policy_lists_extra_form_targets() -> None:
    assert "form-action 'self' https://claude.ai;" in content_security_policy(["https://claude.ai"])
