"""Property tests of the OAuth endpoints with hypothesis: whatever arrives, no 5xx, and every error
is RFC 6749 JSON.

Bodies are drawn as forms (names may repeat), JSON values of any shape, or raw bytes under a
random content type; parameter names mostly come from the OAuth vocabulary and values mix live
credentials (a registered client, a real refresh token, a pending request id) with junk, so the
cases reach deep into each endpoint rather than failing at the first check.

Properties:
- token, register, revoke, introspect, validate and POST /oauth/authorize: never 5xx; an error
  is ``application/json`` with a string ``error`` (RFC 6749 5.2, RFC 7591 3.2.2, RFC 7009 2.2.1);
  a success is what the RFC says it is.
- GET /oauth/authorize (a browser's page): never 5xx; a redirect goes only to the web app's
  consent page or to a redirect URI the client registered (no open redirect), and an error
  redirect carries ``error`` and ``iss``; anything else is the HTML error page.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from tests.hardening.oauth_flow import APP_CALLBACK, Pkce, authorize_params, login_token, query_of, register, tokens
from tests.support.factories import make_user

EXAMPLES = 50
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

OAUTH_NAMES = [
    "grant_type", "code", "client_id", "client_secret", "redirect_uri", "code_verifier", "refresh_token",
    "scope", "resource", "token", "token_type_hint", "state", "response_type", "code_challenge",
    "code_challenge_method", "request_id", "decision", "prompt", "access_token",
]
REGISTRATION_NAMES = [
    "redirect_uris", "token_endpoint_auth_method", "grant_types", "response_types", "client_name",
    "client_uri", "logo_uri", "scope", "contacts", "tos_uri", "policy_uri", "software_id", "software_version",
    "jwks_uri", "client_id", "client_secret",
]


@dataclass
class Live:
    """Real credentials to mix into the random requests."""

    client_id: str
    confidential_id: str
    confidential_secret: str
    refresh_token: str
    access_token: str
    login_token: str
    request_id: str
    web_url: str


@dataclass
class Target:
    api: httpx.AsyncClient
    live: Live


@pytest.fixture(scope="module")
async def target(ctx: AppContext) -> AsyncIterator[Target]:
    settings_ = ctx.settings.model_copy(update={"registration_rate_limit": 1_000_000})
    shared = AppContext(settings=settings_, db=ctx.db)
    transport = httpx.ASGITransport(app=create_auth_app(shared))
    async with httpx.AsyncClient(transport=transport, base_url=settings_.public_url) as api:
        user = await make_user(shared, name="Fuzz")
        public = await register(api)
        confidential = await register(api, token_endpoint_auth_method="client_secret_post")
        issued = await tokens(api, shared, public, user.id)
        pending = await api.get("/oauth/authorize", params=authorize_params(public, Pkce.new()))
        live = Live(
            client_id=public.client_id,
            confidential_id=confidential.client_id,
            confidential_secret=confidential.secret or "",
            refresh_token=issued["refresh_token"],
            access_token=issued["access_token"],
            login_token=await login_token(shared, user.id),
            request_id=query_of(pending.headers["location"])["request_id"],
            web_url=settings_.web_url,
        )
        yield Target(api, live)


# --- strategies -----------------------------------------------------------------------------------

JUNK = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(["", " ", "\x00", "%00", "' OR '1'='1", "%", "_", "*", "null", "[]", "{}", "S256", "plain",
                     "javascript:alert(1)", "https://evil.example/cb", "\ud7ff\ue000", "..", "\r\n"]),
    st.integers(500, 70_000).map(lambda n: "a" * n),
)


def _values(live: Live) -> st.SearchStrategy[str]:
    return st.one_of(
        JUNK,
        st.sampled_from([
            live.client_id, live.confidential_id, live.confidential_secret, live.refresh_token, live.access_token,
            live.request_id, "authorization_code", "refresh_token", "client_credentials", "code", "token", "allow",
            "deny", APP_CALLBACK, "access_token", "items:read offline_access", "http://localhost:8091/mcp",
            Pkce.new().verifier, Pkce.new().challenge,
        ]),
    )


def _names(vocabulary: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(vocabulary), st.text(max_size=20))


def _json_values(leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(leaf, st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                        max_leaves=10)


def _bases(live: Live, path: str) -> list[dict[str, str]]:
    """Valid-looking requests to start from, so mutations reach past the first check."""
    public, confidential = {"client_id": live.client_id}, {
        "client_id": live.confidential_id, "client_secret": live.confidential_secret}
    return {
        "/oauth/token": [
            {"grant_type": "refresh_token", "refresh_token": live.refresh_token, **public},
            {"grant_type": "refresh_token", "refresh_token": live.refresh_token, "scope": "items:read", **public},
            {"grant_type": "authorization_code", "code": "axac_" + "x" * 43, "redirect_uri": APP_CALLBACK,
             "code_verifier": Pkce.new().verifier, **public},
            {"grant_type": "authorization_code", "code": "axac_" + "x" * 43, **confidential},
        ],
        "/oauth/revoke": [
            {"token": live.access_token, **public},
            {"token": live.refresh_token, "token_type_hint": "refresh_token", **public},
            {"token": live.access_token, **confidential},
        ],
        "/oauth/introspect": [{"token": live.access_token, **confidential}, {"token": live.refresh_token}],
        "/oauth/validate": [{"token": live.access_token}, {"access_token": live.access_token}],
        "/oauth/authorize": [{"request_id": live.request_id, "decision": "deny"},
                             {"request_id": live.request_id, "decision": "allow"}],
        "/oauth/register": [{"redirect_uris": APP_CALLBACK, "token_endpoint_auth_method": "none"}],
    }[path]


@st.composite
def requests(draw: st.DrawFn, live: Live, vocabulary: list[str], path: str) -> dict[str, Any]:
    """Keyword arguments for ``httpx.AsyncClient.post``: a body in some encoding, and headers.

    Usually a valid-looking request for ``path`` with a few mutations (a parameter dropped,
    replaced by junk or another live credential, repeated, or a stray one added), as a form or
    as JSON (where a value may also be a number, a list, an object); sometimes raw bytes.
    """
    kind = draw(st.sampled_from(["form", "form", "json", "json", "raw"]))
    headers: dict[str, str] = {}
    pairs = list(draw(st.sampled_from([{}, *_bases(live, path)])).items())
    for _ in range(draw(st.integers(0, 4))):
        operation = draw(st.sampled_from(["drop", "replace", "repeat", "add"]))
        if operation in ("drop", "replace", "repeat") and not pairs:
            operation = "add"
        if operation == "drop":
            pairs.pop(draw(st.integers(0, len(pairs) - 1)))
        elif operation == "replace":
            index = draw(st.integers(0, len(pairs) - 1))
            pairs[index] = (pairs[index][0], draw(_values(live)))
        elif operation == "repeat":
            pairs.append(pairs[draw(st.integers(0, len(pairs) - 1))])
        else:
            pairs.append((draw(_names(vocabulary)), draw(_values(live))))
    if kind == "form":
        content = urlencode(pairs).encode()
        headers["Content-Type"] = draw(st.sampled_from(["application/x-www-form-urlencoded", ""]))
    elif kind == "json":
        body: Any = {name: draw(st.one_of(st.just(value), _json_values(_values(live)))) for name, value in pairs}
        if draw(st.integers(0, 9)) == 0:
            body = draw(_json_values(_values(live)))
        content = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    else:
        content = draw(st.binary(max_size=400))
        headers["Content-Type"] = draw(st.sampled_from(
            ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data",
             "application/json; charset=latin-1", "application/x-www-form-urlencoded; charset=utf-16"]))
    usual = {"/oauth/authorize": ["bearer-login"] * 6, "/oauth/introspect": ["basic"] * 3 + ["bearer-live"] * 3}
    auth = draw(st.sampled_from(["none", "none", "none", "basic", "basic-junk", "bearer", "bearer-live",
                                 "bearer-login", *usual.get(path, [])]))
    if auth == "basic":
        user, password = draw(st.sampled_from([(live.confidential_id, live.confidential_secret),
                                               (live.client_id, "x"), (live.confidential_id, "wrong")]))
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    elif auth == "basic-junk":
        headers["Authorization"] = "Basic " + draw(st.text(alphabet="abcXYZ019+/=:!", max_size=30))
    elif auth == "bearer":
        headers["Authorization"] = "Bearer " + draw(st.text(alphabet="abcXYZ019-_.~+/=", max_size=60))
    elif auth == "bearer-live":
        headers["Authorization"] = f"Bearer {live.access_token}"
    elif auth == "bearer-login":
        headers["Authorization"] = f"Bearer {live.login_token}"
    return {"content": content, "headers": {k: v for k, v in headers.items() if v}}


def _assert_rfc6749(response: httpx.Response) -> None:
    error = response.json().get("error") if response.headers.get("content-type", "").startswith("application/json") else None
    event(f"{response.status_code} {error or ''}".strip())  # shown by --hypothesis-show-statistics
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.headers.get("content-type", "").startswith("application/json"), response.headers
        body = response.json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
        assert set(body) <= {"error", "error_description", "error_uri"}, body


# --- the properties -------------------------------------------------------------------------------

JSON_ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/validate", "/oauth/authorize"]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@FUZZ
@given(data=st.data())
async def test_oauth_endpoints_answer_rfc6749_json(target: Target, path: str, data: st.DataObject) -> None:
    request = data.draw(requests(target.live, OAUTH_NAMES, path))
    response = await target.api.post(path, **request)
    _assert_rfc6749(response)
    if response.status_code == 200 and path == "/oauth/token":
        body = response.json()
        assert body["token_type"] == "Bearer" and body["access_token"] and response.headers["cache-control"] == "no-store"


@FUZZ
@given(data=st.data())
async def test_registration_answers_rfc7591_json(target: Target, data: st.DataObject) -> None:
    request = data.draw(requests(target.live, REGISTRATION_NAMES, "/oauth/register"))
    response = await target.api.post("/oauth/register", **request)
    _assert_rfc6749(response)
    if response.status_code == 201:
        body = response.json()
        assert body["client_id"] and all(urlsplit(u).scheme in ("https", "http") for u in body["redirect_uris"])


@FUZZ
@given(data=st.data())
async def test_registration_with_plausible_metadata(target: Target, data: st.DataObject) -> None:
    """Closer to real registrations: an object whose redirect_uris is a list of URL-ish strings."""
    good = st.sampled_from([APP_CALLBACK, "http://127.0.0.1/cb", "http://localhost:3000/cb", "http://[::1]:9/cb",
                            "https://claude.ai/api/mcp/auth_callback"])
    bad = st.one_of(
        st.sampled_from(["javascript:x", "https://a.example/cb#f", "http://a.example/cb", "https://u@a.example/",
                         "custom:cb", "https://", "https://a.example:99999/"]),
        st.text(max_size=60).map(lambda t: "https://" + t),
    )
    uris = data.draw(st.lists(st.one_of(good, good, good, bad), max_size=4))
    extra = data.draw(st.dictionaries(st.sampled_from(REGISTRATION_NAMES), _json_values(JUNK), max_size=5))
    response = await target.api.post("/oauth/register", json={"redirect_uris": uris, **extra})
    _assert_rfc6749(response)
    if response.status_code == 201:
        assert all(urlsplit(u).scheme == "https" or urlsplit(u).hostname in ("127.0.0.1", "localhost", "::1")
                   for u in response.json()["redirect_uris"])


@FUZZ
@given(data=st.data())
async def test_authorization_page_never_redirects_anywhere_else(target: Target, data: st.DataObject) -> None:
    live = target.live
    params = data.draw(st.lists(st.tuples(_names(OAUTH_NAMES), _values(live)), max_size=10))
    if data.draw(st.booleans()):  # often start from a valid request and spoil some of it
        base = list(authorize_params_for(live).items())
        params = base + params
    assume(len(urlencode(params)) < 65_000)  # httpx cannot send a longer query (its own InvalidURL)
    response = await target.api.get("/oauth/authorize", params=params)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    event(f"{response.status_code} {query_of(response.headers.get('location', '')).get('error', '')}".strip())
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers["location"]
        if location.startswith(f"{live.web_url}/oauth/consent?"):
            return
        assert location.startswith(APP_CALLBACK + "?"), location
        back = query_of(location)
        assert back["iss"] and ("error" in back) != ("code" in back)
    else:
        assert response.status_code == 400 and "location" not in response.headers
        assert response.headers["content-type"].startswith("text/html")


def authorize_params_for(live: Live) -> dict[str, str]:
    return {
        "response_type": "code", "client_id": live.client_id, "redirect_uri": APP_CALLBACK,
        "code_challenge": Pkce.new().challenge, "code_challenge_method": "S256", "state": secrets.token_hex(4),
    }
