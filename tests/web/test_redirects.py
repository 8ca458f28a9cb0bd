"""return_to: only paths of this site; every open-redirect trick is refused."""

from __future__ import annotations

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.web.redirects import login_url, safe_return_to
from tests.support.factories import TestUser
from tests.web.helpers import submit

ATTACKS = [
    ("//evil.com", "protocol-relative"),
    ("//evil.com/oauth/consent", "protocol-relative-with-path"),
    ("/\\evil.com", "slash-backslash"),
    ("\\\\evil.com", "backslashes"),
    ("/\t/evil.com", "tab-dropped-by-browsers"),
    ("/\n/evil.com", "newline-dropped-by-browsers"),
    (" //evil.com", "leading-space"),
    ("https://evil.com", "absolute-https"),
    ("http://localhost:3000/", "absolute-own-host"),
    ("javascript:alert(1)", "javascript-scheme"),
    ("JaVaScRiPt:alert(1)", "javascript-mixed-case"),
    ("data:text/html,hi", "data-scheme"),
    ("evil.com", "relative-host-looking"),
    ("/ok\\..\\evil", "backslash-inside"),
    ("/" + "a" * 2001, "too-long"),
    ("", "empty"),
]


@pytest.mark.parametrize("value", [a for a, _ in ATTACKS], ids=[i for _, i in ATTACKS])
def test_unsafe_return_to_is_refused(value: str) -> None:
    assert safe_return_to(value) is None


@pytest.mark.parametrize(
    "value",
    ["/", "/items?q=a%20b&page=2", "/oauth/consent?request_id=axar_abc-_", "/items/abc123/delete", "/a/%2F%2Fb"],
    ids=["root", "query", "consent", "nested", "encoded-slashes-stay-a-path"],
)
def test_site_paths_are_kept(value: str) -> None:
    assert safe_return_to(value) == value


def test_login_url_keeps_only_safe_targets() -> None:
    assert login_url("", "/oauth/consent?request_id=x") == "/auth?return_to=%2Foauth%2Fconsent%3Frequest_id%3Dx"
    assert login_url("", "//evil.com") == "/auth"
    assert login_url("", "/") == "/auth"


OVER_HTTP = ["//evil.com", "/\\evil.com", "/\t/evil.com", "https://evil.com", "javascript:alert(1)"]


@pytest.mark.parametrize("value", OVER_HTTP, ids=["protocol-relative", "slash-backslash", "tab", "absolute", "javascript"])
async def test_login_never_redirects_off_site(
    ctx: AppContext, web: httpx.AsyncClient, user: TestUser, value: str
) -> None:
    response = await submit(web, "/auth", email=user.email, password=user.password, return_to=value)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_login_comes_back_to_a_site_path(ctx: AppContext, web: httpx.AsyncClient, user: TestUser) -> None:
    response = await submit(web, "/auth?return_to=%2Ftags%3Fq%3Dx", email=user.email, password=user.password,
                            return_to="/tags?q=x")
    assert response.status_code == 303
    assert response.headers["location"] == "/tags?q=x"


async def test_the_login_page_drops_an_unsafe_return_to(web: httpx.AsyncClient) -> None:
    page = await web.get("/auth", params={"return_to": "//evil.com"})
    assert page.status_code == 200
    assert "evil.com" not in page.text


async def test_logout_never_redirects_off_site(signed_in: httpx.AsyncClient) -> None:
    response = await submit(signed_in, "/auth/logout", return_to="//evil.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth?notice=signed_out"
