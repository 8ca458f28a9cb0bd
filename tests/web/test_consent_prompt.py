"""``prompt`` on the consent page (OpenID Connect Core 3.1.2.1): ``login`` makes a signed-in user
enter their password again first, for that pending request, then consent; ``consent`` always shows
the page; ``none`` goes back to the app as ``interaction_required``."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import httpx

from axiom_mcp.context import AppContext
from tests.support.factories import TestUser
from tests.web.helpers import CALLBACK, csrf_of, query_of, register_client, pending_request


def request_id_of(consent_path: str) -> str:
    return query_of(consent_path)["request_id"]


def relogin_path(consent_path: str) -> str:
    return f"/auth?prompt=login&return_to={quote(consent_path, safe='')}"


async def allow(web: httpx.AsyncClient, consent_path: str) -> httpx.Response:
    page = await web.get(consent_path)
    assert page.status_code == 200, page.text[:300]
    return await web.post("/oauth/consent", data={
        "csrf_token": csrf_of(page), "request_id": request_id_of(consent_path), "decision": "allow"})


async def test_without_prompt_a_signed_in_user_goes_straight_to_consent(
    signed_in: httpx.AsyncClient, auth: httpx.AsyncClient
) -> None:
    consent_path, _ = await pending_request(auth, await register_client(auth))
    page = await signed_in.get(consent_path)
    assert page.status_code == 200
    assert "wants to use your Axiom account" in page.text
    answer = await allow(signed_in, consent_path)
    assert answer.status_code == 303 and query_of(answer.headers["location"])["code"]


async def test_prompt_login_asks_a_signed_in_user_to_sign_in_again_then_consents(
    signed_in: httpx.AsyncClient, auth: httpx.AsyncClient, user: TestUser
) -> None:
    consent_path, _ = await pending_request(auth, await register_client(auth), prompt="login", state="again")
    arrived = await signed_in.get(consent_path)
    assert arrived.status_code == 303
    assert arrived.headers["location"] == relogin_path(consent_path)

    # The login page shows its form although the browser is signed in, with the email filled in.
    login = await signed_in.get(arrived.headers["location"])
    assert login.status_code == 200
    assert "asked that you sign in again" in login.text
    assert f'value="{user.email}"' in login.text
    assert 'name="prompt" value="login"' in login.text

    # A wrong password keeps the user on the login page, still asked to sign in again.
    wrong = await signed_in.post("/auth", data={"csrf_token": csrf_of(login), "email": user.email,
                                                "password": "not the password", "return_to": consent_path,
                                                "prompt": "login"})
    assert wrong.status_code == 401 and "asked that you sign in again" in wrong.text

    signed = await signed_in.post("/auth", data={"csrf_token": csrf_of(wrong), "email": user.email,
                                                 "password": user.password, "return_to": consent_path,
                                                 "prompt": "login"})
    assert signed.status_code == 303 and signed.headers["location"] == consent_path  # the same request
    answer = await allow(signed_in, consent_path)  # no loop: the fresh login counts for this request
    assert answer.status_code == 303
    back = query_of(answer.headers["location"])
    assert answer.headers["location"].startswith(CALLBACK)
    assert back["code"] and back["state"] == "again"


async def test_allow_posted_without_the_fresh_login_is_sent_to_log_in(
    signed_in: httpx.AsyncClient, auth: httpx.AsyncClient, user: TestUser
) -> None:
    consent_path, _ = await pending_request(auth, await register_client(auth), prompt="login")
    account = await signed_in.get("/account")  # any page of the session gives its CSRF token
    posted = await signed_in.post("/oauth/consent", data={
        "csrf_token": csrf_of(account), "request_id": request_id_of(consent_path), "decision": "allow"})
    assert posted.status_code == 303
    assert posted.headers["location"] == relogin_path(consent_path)
    # The request is still pending: after signing in, it can be allowed.
    login = await signed_in.get(posted.headers["location"])
    await signed_in.post("/auth", data={"csrf_token": csrf_of(login), "email": user.email,
                                        "password": user.password, "return_to": consent_path, "prompt": "login"})
    assert "code" in query_of((await allow(signed_in, consent_path)).headers["location"])


async def test_a_login_counts_only_for_requests_made_before_it(
    signed_in: httpx.AsyncClient, auth: httpx.AsyncClient, user: TestUser
) -> None:
    client_id = await register_client(auth)
    first, _ = await pending_request(auth, client_id, prompt="login")
    login = await signed_in.get(relogin_path(first))
    await signed_in.post("/auth", data={"csrf_token": csrf_of(login), "email": user.email,
                                        "password": user.password, "return_to": first, "prompt": "login"})
    assert (await signed_in.get(first)).status_code == 200
    later, _ = await pending_request(auth, client_id, prompt="login")  # made after that login
    assert (await signed_in.get(later)).headers["location"] == relogin_path(later)


async def test_prompt_login_for_a_visitor_not_signed_in_needs_one_login(
    web: httpx.AsyncClient, auth: httpx.AsyncClient, user: TestUser
) -> None:
    consent_path, _ = await pending_request(auth, await register_client(auth), prompt="login")
    arrived = await web.get(consent_path)
    assert arrived.status_code == 303 and urlsplit(arrived.headers["location"]).path == "/auth"
    login = await web.get(arrived.headers["location"])
    signed = await web.post("/auth", data={"csrf_token": csrf_of(login), "email": user.email,
                                           "password": user.password, "return_to": consent_path})
    assert signed.headers["location"] == consent_path
    assert (await web.get(consent_path)).status_code == 200


async def test_prompt_consent_shows_the_page_even_after_an_earlier_consent(
    signed_in: httpx.AsyncClient, auth: httpx.AsyncClient
) -> None:
    client_id = await register_client(auth)
    first, _ = await pending_request(auth, client_id)
    assert "code" in query_of((await allow(signed_in, first)).headers["location"])
    again, _ = await pending_request(auth, client_id, prompt="consent")
    page = await signed_in.get(again)
    assert page.status_code == 200 and "wants to use your Axiom account" in page.text
    # Consent is never skipped, with or without prompt=consent.
    plain, _ = await pending_request(auth, client_id)
    assert (await signed_in.get(plain)).status_code == 200


async def test_prompt_none_goes_back_to_the_app_as_interaction_required(
    ctx: AppContext, auth: httpx.AsyncClient
) -> None:
    client_id = await register_client(auth)
    base = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
            "state": "quiet"}
    alone = await auth.get("/oauth/authorize", params={**base, "prompt": "none"})
    assert alone.status_code in (302, 303) and alone.headers["location"].startswith(CALLBACK)
    back = query_of(alone.headers["location"])
    assert back["error"] == "interaction_required"
    assert back["state"] == "quiet" and back["iss"] == ctx.settings.issuer
    mixed = await auth.get("/oauth/authorize", params={**base, "prompt": "none login"})
    assert query_of(mixed.headers["location"])["error"] == "invalid_request"
