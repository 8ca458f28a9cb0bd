"""Sign-up, login and the profile over REST."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID, find_access_token
from axiom_mcp.settings import DEFAULT_SCOPES
from tests.auth_service.conftest import API, ITEMS, assert_error, bearer, create
from tests.support.factories import PASSWORD, TestUser

SIGNUP = f"{API}/auth/signup"
LOGIN = f"{API}/auth/login"
PROFILE = f"{API}/user/profile"
PROFILE_KEYS = {"id", "email", "name", "avatar", "verified", "timezone", "created", "updated"}


def fresh_email(local: str = "someone") -> str:
    return f"{local}-{secrets.token_hex(5)}@Example.COM"


# --- profile --------------------------------------------------------------------------------------


async def test_the_profile_is_the_callers_and_only_theirs(
    api: httpx.AsyncClient, user: TestUser, other_user: TestUser
) -> None:
    response = await api.get(PROFILE, headers=bearer(user))
    assert response.status_code == 200
    profile = response.json()
    assert set(profile) == PROFILE_KEYS  # never a password hash
    assert (profile["id"], profile["email"], profile["name"]) == (user.id, user.email, "Ann")
    assert profile["verified"] is False
    theirs = (await api.get(PROFILE, headers=bearer(other_user))).json()
    assert theirs["id"] == other_user.id and theirs["name"] == "Bob"


async def test_a_deleted_users_token_no_longer_works(ctx: AppContext, api: httpx.AsyncClient) -> None:
    from axiom_mcp.data import users
    from tests.support.factories import make_user

    gone = await make_user(ctx)
    async with ctx.db.session() as session:
        await users.delete_user(session, gone.email)
    ctx.tokens.clear()
    assert_error(await api.get(PROFILE, headers=bearer(gone)), 401)


# --- sign-up --------------------------------------------------------------------------------------


async def test_sign_up_creates_an_account_that_can_log_in(api_from: httpx.AsyncClient) -> None:
    email = fresh_email("Ann.Smith")
    response = await api_from.post(SIGNUP, json={"email": email, "password": PASSWORD, "name": " Ann "})
    assert response.status_code == 201, response.text
    profile = response.json()
    assert set(profile) == PROFILE_KEYS
    assert profile["email"] == email.lower()
    assert profile["name"] == "Ann"

    login = await api_from.post(LOGIN, json={"email": email.upper(), "password": PASSWORD})
    assert login.status_code == 200
    assert login.json()["record"] == profile


async def test_sign_up_without_a_name_is_fine(api_from: httpx.AsyncClient) -> None:
    response = await api_from.post(SIGNUP, json={"email": fresh_email(), "password": PASSWORD})
    assert response.status_code == 201
    assert response.json()["name"] == ""


@pytest.mark.parametrize("variant", [str.lower, str.upper, str.swapcase, lambda e: f"  {e}  "],
                         ids=["lower", "upper", "swapped", "spaces"])
async def test_an_email_is_taken_whatever_its_case(api_from: httpx.AsyncClient, variant: Any) -> None:
    email = fresh_email("Case")
    assert (await api_from.post(SIGNUP, json={"email": email, "password": PASSWORD})).status_code == 201
    again = await api_from.post(SIGNUP, json={"email": variant(email), "password": "another password"})
    assert_error(again, 409, "email")
    # the first account's password still works: the second sign-up changed nothing
    login = await api_from.post(LOGIN, json={"email": email, "password": PASSWORD})
    assert login.status_code == 200


BAD_SIGNUPS = [
    pytest.param({"password": PASSWORD}, "email", id="email-missing"),
    pytest.param({"email": "not-an-email", "password": PASSWORD}, "email", id="email-invalid"),
    pytest.param({"email": "a@", "password": PASSWORD}, "email", id="email-no-domain"),
    pytest.param({"email": 42, "password": PASSWORD}, "email", id="email-number"),
    pytest.param({"email": f"{'a' * 310}@example.com", "password": PASSWORD}, "email", id="email-too-long"),
    pytest.param({"email": "a\x00b@example.com", "password": PASSWORD}, "email", id="email-nul"),
    pytest.param({"email": "EMAIL"}, "password", id="password-missing"),
    pytest.param({"email": "EMAIL", "password": "short12"}, "password", id="password-too-short"),
    pytest.param({"email": "EMAIL", "password": "p" * 1025}, "password", id="password-too-long"),
    pytest.param({"email": "EMAIL", "password": 12345678}, "password", id="password-number"),
    pytest.param({"email": "EMAIL", "password": PASSWORD, "name": "n" * 256}, "name", id="name-too-long"),
    pytest.param({"email": "EMAIL", "password": PASSWORD, "name": ["Ann"]}, "name", id="name-list"),
    pytest.param({"email": "EMAIL", "password": PASSWORD, "name": "a\x00"}, "name", id="name-nul"),
    pytest.param({"email": "EMAIL", "password": PASSWORD, "verified": True}, "verified", id="verified-is-not-yours"),
    pytest.param({"email": "EMAIL", "password": PASSWORD, "id": "a" * 15}, "id", id="id-is-not-yours"),
]


@pytest.mark.parametrize(("body", "field"), BAD_SIGNUPS)
async def test_bad_sign_ups_are_a_400_naming_the_field(
    api_from: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    email = fresh_email()
    body = {k: (email if v == "EMAIL" else v) for k, v in body.items()}
    assert_error(await api_from.post(SIGNUP, json=body, headers={}), 400, field)
    login = await api_from.post(LOGIN, json={"email": email, "password": PASSWORD})
    assert_error(login, 401)  # no account was made


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        pytest.param(b'{"email": ', "application/json", 400, id="malformed-json"),
        pytest.param(b"[]", "application/json", 400, id="array"),
        pytest.param(b"", "application/json", 400, id="empty"),
        pytest.param(b"email=a%40b.c&password=12345678", "application/x-www-form-urlencoded", 415, id="form"),
    ],
)
async def test_sign_up_bodies_that_are_not_a_json_object(
    api_from: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    response = await api_from.post(SIGNUP, content=content, headers={"content-type": content_type})
    assert_error(response, status, "body")


# --- login ----------------------------------------------------------------------------------------


async def test_login_returns_a_token_for_this_api(ctx: AppContext, api_from: httpx.AsyncClient, user: TestUser) -> None:
    response = await api_from.post(LOGIN, json={"email": user.email.upper(), "password": user.password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == int(ctx.settings.access_token_ttl.total_seconds())
    assert body["scope"].split() == list(DEFAULT_SCOPES)
    assert body["record"]["id"] == user.id and "password_hash" not in body["record"]
    async with ctx.db.session() as session:
        info = await find_access_token(session, body["token"])
    assert info is not None
    assert (info.user_id, info.client_id, info.resource) == (user.id, FIRST_PARTY_CLIENT_ID, ctx.settings.api_resource)

    item = await create(api_from, ITEMS, TestUser(user.id, user.email, user.password, body["token"]))
    assert item["user"] == user.id


async def test_each_login_gets_its_own_token(api_from: httpx.AsyncClient, user: TestUser) -> None:
    first = (await api_from.post(LOGIN, json={"email": user.email, "password": user.password})).json()["token"]
    second = (await api_from.post(LOGIN, json={"email": user.email, "password": user.password})).json()["token"]
    assert first != second
    for token in (first, second):
        assert (await api_from.get(PROFILE, headers=bearer(token))).status_code == 200


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    api_from: httpx.AsyncClient, user: TestUser
) -> None:
    wrong = await api_from.post(LOGIN, json={"email": user.email, "password": "not the password"})
    unknown = await api_from.post(LOGIN, json={"email": fresh_email("ghost"), "password": user.password})
    assert_error(wrong, 401)
    assert_error(unknown, 401)
    assert wrong.json() == unknown.json()
    assert wrong.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")


BAD_LOGINS = [
    pytest.param({"password": PASSWORD}, "email", id="email-missing"),
    pytest.param({"email": "", "password": PASSWORD}, "email", id="email-empty"),
    pytest.param({"email": 5, "password": PASSWORD}, "email", id="email-number"),
    pytest.param({"email": "e" * 321, "password": PASSWORD}, "email", id="email-too-long"),
    pytest.param({"email": "a\x00@example.com", "password": PASSWORD}, "email", id="email-nul"),
    pytest.param({"email": "a@example.com"}, "password", id="password-missing"),
    pytest.param({"email": "a@example.com", "password": ""}, "password", id="password-empty"),
    pytest.param({"email": "a@example.com", "password": "p" * 1025}, "password", id="password-too-long"),
    pytest.param({"email": "a@example.com", "password": None}, "password", id="password-null"),
    pytest.param({"email": "a@example.com", "password": PASSWORD, "scope": "x"}, "scope", id="unknown-field"),
]


@pytest.mark.parametrize(("body", "field"), BAD_LOGINS)
async def test_bad_logins_are_a_400_naming_the_field(
    api_from: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    assert_error(await api_from.post(LOGIN, json=body), 400, field)


async def test_a_malformed_login_body_is_a_400(api_from: httpx.AsyncClient) -> None:
    response = await api_from.post(LOGIN, content=b'{"email":', headers={"content-type": "application/json"})
    assert_error(response, 400, "body")
