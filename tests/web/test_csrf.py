"""Every form post needs its CSRF token: without it (or with a wrong one) the answer is 403."""

from __future__ import annotations

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import TAGS
from axiom_mcp.data.schemas import PageQuery, TagCreate
from axiom_mcp.web import csrf
from tests.support.factories import TestUser
from tests.web.helpers import csrf_of, set_cookie, sign_in_directly

SIGNED_IN_POSTS = [
    ("/auth/logout", {}),
    ("/account/password", {"current_password": "x", "new_password": "yyyyyyyy", "confirm_password": "yyyyyyyy"}),
    ("/oauth/consent", {"request_id": "axar_nothing", "decision": "allow"}),
    ("/apps/revoke", {"client_id": "nothing"}),
    ("/items/new", {"name": "Planted"}),
    ("/items/{tag}", {"name": "Planted"}),
    ("/items/{tag}/delete", {}),
    ("/clients/new", {"name": "Planted"}),
    ("/clients/{tag}", {"name": "Planted"}),
    ("/clients/{tag}/delete", {}),
    ("/tags/new", {"name": "Planted"}),
    ("/tags/{tag}", {"name": "Planted"}),
    ("/tags/{tag}/delete", {}),
]
IDS = [path.replace("{tag}", "id").strip("/").replace("/", "-") for path, _ in SIGNED_IN_POSTS]


@pytest.fixture
async def tag_id(ctx: AppContext, user: TestUser) -> str:
    async with ctx.db.session() as session:
        return (await records.create_record(TAGS, session, user.id, TagCreate(name="Keep me"))).id


async def tag_names(ctx: AppContext, user: TestUser) -> list[str]:
    async with ctx.db.session() as session:
        page = await records.list_records(TAGS, session, user.id, PageQuery(perPage=100))
    return [t.name for t in page.items]


@pytest.mark.parametrize(("path", "fields"), SIGNED_IN_POSTS, ids=IDS)
async def test_signed_in_posts_without_the_right_token_are_refused(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser, other_user: TestUser, tag_id: str,
    path: str, fields: dict[str, str],
) -> None:
    async with httpx.AsyncClient(transport=signed_in._transport, base_url=str(signed_in.base_url)) as browser:
        await sign_in_directly(ctx, browser, other_user.id)
        other_sessions_token = csrf_of(await browser.get("/"))
    tokens = {
        "missing": None,
        "empty": "",
        "wrong": csrf.session_token("0" * 64),
        "other-session": other_sessions_token,  # valid, but for another user's session
    }
    for case, token in tokens.items():
        data = dict(fields) if token is None else {**fields, "csrf_token": token}
        response = await signed_in.post(path.format(tag=tag_id), data=data)
        assert response.status_code == 403, case
        assert "This form has expired" in response.text
        assert await tag_names(ctx, user) == ["Keep me"]  # nothing was created, renamed or deleted
    assert (await signed_in.get("/")).status_code == 200  # and the session still works


@pytest.mark.parametrize(("path", "fields"), SIGNED_IN_POSTS, ids=IDS)
async def test_the_same_posts_with_the_token_are_not_refused(
    signed_in: httpx.AsyncClient, tag_id: str, path: str, fields: dict[str, str]
) -> None:
    """The control of the test above: it is the token, not the route, that made the 403."""
    token = csrf_of(await signed_in.get("/"))
    response = await signed_in.post(path.format(tag=tag_id), data={**fields, "csrf_token": token})
    assert response.status_code != 403, response.text


ANONYMOUS_POSTS = [
    ("/auth", {"email": "a@example.com", "password": "whatever1"}),
    ("/auth/signup", {"email": "new@example.com", "password": "whatever1"}),
]


@pytest.mark.parametrize(("path", "fields"), ANONYMOUS_POSTS, ids=["login", "signup"])
@pytest.mark.parametrize("case", ["no-token-no-cookie", "token-without-cookie", "cookie-without-token",
                                  "different-cookie", "forged-pair", "cross-origin"])
async def test_anonymous_posts_need_the_signed_double_submit_token(
    web: httpx.AsyncClient, path: str, fields: dict[str, str], case: str
) -> None:
    page = await web.get(path)
    token = csrf_of(page)
    assert web.cookies.get("axiom_csrf") == token
    data = dict(fields)
    headers = {}
    if case == "no-token-no-cookie":
        web.cookies.clear()
    elif case == "token-without-cookie":
        web.cookies.clear()
        data["csrf_token"] = token
    elif case == "different-cookie":
        data["csrf_token"] = token
        set_cookie(web, "axiom_csrf", csrf.new_anonymous_token("test-secret-key-not-for-production"))
    elif case == "forged-pair":  # attacker-chosen cookie and field, but without the server's secret
        forged = csrf.new_anonymous_token("not the server secret")
        set_cookie(web, "axiom_csrf", forged)
        data["csrf_token"] = forged
    elif case == "cross-origin":
        data["csrf_token"] = token
        headers["Origin"] = "https://evil.example"
    response = await web.post(path, data=data, headers=headers)
    assert response.status_code == 403


async def test_a_same_origin_post_with_the_pair_is_accepted(ctx: AppContext, web: httpx.AsyncClient) -> None:
    page = await web.get("/auth")
    response = await web.post(
        "/auth",
        data={"email": "nobody@example.com", "password": "whatever1", "csrf_token": csrf_of(page)},
        headers={"Origin": ctx.settings.web_url},
    )
    assert response.status_code == 401  # past the CSRF check: a wrong login


async def test_a_signed_in_post_from_another_origin_is_refused(signed_in: httpx.AsyncClient) -> None:
    token = csrf_of(await signed_in.get("/tags/new"))
    response = await signed_in.post("/tags/new", data={"name": "x", "csrf_token": token},
                                    headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_session_tokens_differ_per_session_and_anonymous_tokens_need_the_secret() -> None:
    assert csrf.session_token("a" * 64) != csrf.session_token("b" * 64)
    token = csrf.new_anonymous_token("secret")
    assert csrf.anonymous_token_is_valid("secret", token)
    assert not csrf.anonymous_token_is_valid("other", token)
    assert not csrf.anonymous_token_is_valid("secret", token + "0")
    assert not csrf.anonymous_token_is_valid("secret", "." + token.split(".")[1])
