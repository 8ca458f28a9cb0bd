"""The consent page: a real authorization request from the auth service, answered with Allow or Deny."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.oauth.consents import list_connected_apps
from axiom_mcp.settings import SCOPES
from tests.support.factories import TestUser
from tests.web.helpers import CALLBACK, csrf_of, pending_request, query_of, register_client, submit


async def exchange(auth: httpx.AsyncClient, client_id: str, code: str, verifier: str) -> dict[str, object]:
    response = await auth.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id,
        "code_verifier": verifier, "redirect_uri": CALLBACK,
    })
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_an_anonymous_visit_goes_to_login_and_comes_back(
    auth: httpx.AsyncClient, web: httpx.AsyncClient, user: TestUser
) -> None:
    client_id = await register_client(auth)
    consent, _ = await pending_request(auth, client_id)
    first = await web.get(consent)
    assert first.status_code == 303
    assert first.headers["location"] == f"/auth?return_to={quote(consent, safe='')}"
    login = await web.get(first.headers["location"])
    assert "Sign in to continue connecting an app" in login.text
    assert f'name="return_to" value="{consent}"' in login.text.replace("&amp;", "&")
    signed = await web.post("/auth", data={"email": user.email, "password": user.password,
                                           "return_to": consent, "csrf_token": csrf_of(login)})
    assert signed.status_code == 303
    assert signed.headers["location"] == consent
    assert (await web.get(consent)).status_code == 200


async def test_the_page_says_who_asks_for_what_and_where_the_answer_goes(
    auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    client_id = await register_client(auth, name="Claude")
    consent, _ = await pending_request(auth, client_id, scope="items:read tags:write offline_access")
    page = await signed_in.get(consent)
    assert page.status_code == 200
    text = page.text
    assert '<span class="client-name">Claude</span>' in text
    assert "Unverified app." in text  # it registered itself (RFC 7591): nobody vouched for the name
    assert '<strong class="redirect-host">claude.ai</strong>' in text
    for scope in ("items:read", "tags:write", "offline_access"):
        assert SCOPES[scope] in text
    assert SCOPES["clients:write"] not in text
    assert re.search(r'<button type="submit" name="decision" value="allow"[^>]*>Allow</button>', text)
    assert re.search(r'<button type="submit" name="decision" value="deny"[^>]*>Deny</button>', text)
    assert user.email in text
    policy = page.headers["content-security-policy"]
    assert "form-action 'self' https://claude.ai;" in policy and "frame-ancestors 'none'" in policy


async def test_allow_sends_a_code_that_redeems_for_a_token(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    client_id = await register_client(auth)
    consent, verifier = await pending_request(auth, client_id, state="s-42")
    page = await signed_in.get(consent)
    request_id = query_of(consent)["request_id"]
    answer = await signed_in.post("/oauth/consent", data={
        "request_id": request_id, "decision": "allow", "csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")
    params = query_of(location)
    assert params["state"] == "s-42" and params["iss"] == ctx.settings.issuer and params["code"]
    tokens = await exchange(auth, client_id, params["code"], verifier)
    info = await ctx.tokens.verify(str(tokens["access_token"]))
    assert info is not None and info.user_id == user.id and info.client_id == client_id
    async with ctx.db.session() as session:
        assert [a.client_id for a in await list_connected_apps(session, user.id)] == [client_id]

    again = await signed_in.post("/oauth/consent", data={
        "request_id": request_id, "decision": "allow", "csrf_token": csrf_of(page)})
    assert again.status_code == 400  # answered once already: shown, never redirected
    assert "location" not in again.headers


async def test_deny_returns_access_denied_and_connects_nothing(
    ctx: AppContext, auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    client_id = await register_client(auth)
    consent, _ = await pending_request(auth, client_id, state="s-7")
    page = await signed_in.get(consent)
    answer = await signed_in.post("/oauth/consent", data={
        "request_id": query_of(consent)["request_id"], "decision": "deny", "csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    params = query_of(answer.headers["location"])
    assert answer.headers["location"].startswith(CALLBACK + "?")
    assert params["error"] == "access_denied" and params["state"] == "s-7" and "code" not in params
    async with ctx.db.session() as session:
        assert await list_connected_apps(session, user.id) == []


@pytest.mark.parametrize(
    ("request_id", "decision"),
    [("axar_unknown", "allow"), ("", "allow"), ("x" * 5000, "deny"), ("{real}", "maybe"), ("{real}", "")],
    ids=["unknown", "empty", "huge", "bad-decision", "no-decision"],
)
async def test_bad_answers_are_shown_not_redirected(
    auth: httpx.AsyncClient, signed_in: httpx.AsyncClient, request_id: str, decision: str
) -> None:
    client_id = await register_client(auth)
    consent, _ = await pending_request(auth, client_id)
    real = query_of(consent)["request_id"]
    token = csrf_of(await signed_in.get(consent))
    response = await signed_in.post("/oauth/consent", data={
        "request_id": request_id.format(real=real), "decision": decision, "csrf_token": token})
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize("request_id", ["", "axar_unknown", "a%00b"], ids=["missing", "unknown", "nul"])
async def test_an_unknown_request_shows_a_page(signed_in: httpx.AsyncClient, request_id: str) -> None:
    response = await signed_in.get(f"/oauth/consent?request_id={request_id}")
    assert response.status_code == 400
    assert "This request cannot be completed" in response.text
    assert "Go back to the app you were connecting" in response.text


async def test_a_hostile_client_name_is_only_text(auth: httpx.AsyncClient, signed_in: httpx.AsyncClient) -> None:
    client_id = await register_client(auth, name='<img src=x onerror="alert(1)">ChatGPT')
    consent, _ = await pending_request(auth, client_id)
    page = await signed_in.get(consent)
    assert "<img" not in page.text and "&lt;img src=x" in page.text


async def test_the_seed_path_is_an_alias(ctx: AppContext, web: httpx.AsyncClient) -> None:
    alias = await web.get("/oauth/authorize?request_id=axar_abc")
    assert alias.status_code == 303 and alias.headers["location"] == "/oauth/consent?request_id=axar_abc"
    raw = await web.get("/oauth/authorize?client_id=x&response_type=code")
    assert raw.headers["location"] == f"{ctx.settings.public_url}/oauth/authorize?client_id=x&response_type=code"


async def test_switching_account_from_the_consent_page(
    auth: httpx.AsyncClient, signed_in: httpx.AsyncClient
) -> None:
    client_id = await register_client(auth)
    consent, _ = await pending_request(auth, client_id)
    page = await signed_in.get(consent)
    back = re.search(r'name="return_to" value="([^"]+)"', page.text)
    assert back is not None
    target = back.group(1).replace("&amp;", "&")
    response = await submit(signed_in, consent, "/auth/logout", return_to=target)
    assert response.status_code == 303
    assert response.headers["location"] == f"/auth?return_to={quote(consent, safe='')}"
    assert "axiom_session" not in signed_in.cookies or not signed_in.cookies.get("axiom_session")
