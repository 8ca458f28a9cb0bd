"""OAuth attacks (RFC 9700, the OAuth 2.0 Security BCP, and RFC 6819's threat model): each row is an
attack tried over HTTP against the real endpoints, and what must come of it.

| area | attack | RFC | what must happen |
|---|---|---|---|
| code | replay of a redeemed code | 9700 4.2.4, 6819 4.4.1.1 | `invalid_grant`; every token it issued is revoked |
| code | two redemptions racing | 6749 4.1.2 | exactly one succeeds; the other revokes what it issued |
| code | another client / redirect_uri / resource | 6749 4.1.3, 8707 | `invalid_grant`/`invalid_target`; code spent |
| PKCE | verifier missing, wrong, plain, malformed | 7636 4.6, 9700 2.1.1 | refused; code spent (no guessing) |
| PKCE | `plain` or no challenge at authorization | 9700 2.1.1 | no code is ever issued |
| redirect | suffix, prefix, traversal, userinfo, fragment, case ... | 9700 4.1, 6819 4.1.5 | shown to the user, never redirected |
| redirect | errors before the redirect URI is verified | 9700 4.11 | shown, never redirected (no open redirector) |
| state | state dropped or altered | 6749 10.12 | echoed byte for byte on code, deny and errors |
| mix-up | responses without `iss`, issuer from Host | 9207, 9700 4.4 | `iss` always the configured issuer |
| audience | API token at MCP, MCP token at API | 8707, 9700 2.3 | 401 |
| tokens | expired, revoked, refreshed-away | 6819 5.1.5.3, 7009 | 401 / `invalid_grant`, at once |
| refresh | reuse of a rotated refresh token | 9700 4.14.2 | the whole chain is revoked |
| refresh | another client's refresh token | 6749 6 | `invalid_grant` |
| revoke | revoking another client's token | 7009 2.1 | 200 (tells nothing), token still works |
| DCR | `javascript:`/`data:`/non-loopback http redirect URIs | 7591 5, 8252 7.3 | `invalid_redirect_uri` |
| DCR | oversized, malformed or ill-typed metadata | 7591 3.2.2 | 4xx JSON `invalid_client_metadata`, nothing stored |
| consent | a registered client named "Claude", with script in its metadata | 6819 4.2.4 | escaped, flagged unverified, the real redirect host shown |

Client ID Metadata Document attacks are in ``test_cimd_attacks.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from axiom_mcp.app import create_auth_app, create_mcp_app, create_web_app
from axiom_mcp.context import AppContext
from axiom_mcp.data.tokens import issue_access_token
from axiom_mcp.db.tables import (
    OAuthAuthorizationCode,
    OAuthAuthorizationRequest,
    OAuthClient,
    OAuthRefreshToken,
)
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret
from tests.hardening.oauth_flow import (
    APP_CALLBACK,
    APP_SECOND_CALLBACK,
    Client,
    Pkce,
    assert_oauth_error,
    authorize_params,
    code_for,
    consent,
    login_token,
    query_of,
    redeem,
    refresh,
    register,
    tokens,
)
from tests.mcp_server import rpc
from tests.support.factories import TestUser, make_user
from tests.support.servers import free_port, running
from tests.web.helpers import own_address, sign_in_directly

# --- one deployment: the auth service in process, the MCP service on loopback, one database ----------


@dataclass
class Deployment:
    ctx: AppContext
    api: httpx.AsyncClient
    """The auth service (OAuth endpoints and the REST API), in process."""
    mcp: httpx.AsyncClient
    """The MCP service on a loopback port."""

    async def api_status(self, token: str) -> int:
        response = await self.api.get("/api/v1/user/profile", headers={"Authorization": f"Bearer {token}"})
        return response.status_code

    async def mcp_status(self, token: str) -> int:
        body, headers = rpc.modern_call("get_user_profile", {}, token)
        return (await self.mcp.post("/mcp", json=body, headers=headers)).status_code


@pytest.fixture(scope="module")
async def deployment(ctx: AppContext) -> AsyncIterator[Deployment]:
    """Both services as one process runs them: one settings object, one token cache, one database."""
    port = free_port()
    # Registration is rate limited per address; the attacks register many clients from one
    # address, so the limit is lifted here (``test_open_registration_is_rate_limited_per_address``).
    settings = ctx.settings.model_copy(
        update={"mcp_url": f"http://127.0.0.1:{port}", "mcp_port": port, "registration_rate_limit": 1_000_000}
    )
    shared = AppContext(settings=settings, db=ctx.db)
    transport = httpx.ASGITransport(app=create_auth_app(shared))
    async with (
        running(create_mcp_app(shared), port) as mcp_url,
        httpx.AsyncClient(transport=transport, base_url=settings.public_url) as api,
        httpx.AsyncClient(base_url=mcp_url, timeout=10) as mcp,
    ):
        yield Deployment(shared, api, mcp)


@pytest.fixture(scope="module")
async def victim(deployment: Deployment) -> TestUser:
    return await make_user(deployment.ctx, name="Victim")


async def _new_client(d: Deployment, **metadata: Any) -> Client:
    return await register(d.api, **metadata)


# --- authorization codes and PKCE ------------------------------------------------------------------


async def test_a_replayed_code_fails_and_revokes_what_it_issued(deployment: Deployment, victim: TestUser) -> None:
    d = deployment
    client = await _new_client(d)
    pkce = Pkce.new()
    code = await code_for(d.api, d.ctx, client, victim.id, pkce, resource=d.ctx.settings.api_resource)
    first = await redeem(d.api, client, code, pkce)
    assert first.status_code == 200, first.text
    issued = first.json()
    assert await d.api_status(issued["access_token"]) == 200

    replay = await redeem(d.api, client, code, pkce)

    assert_oauth_error(replay, 400, "invalid_grant")
    assert await d.api_status(issued["access_token"]) == 401, "the replay must revoke the access token"
    assert_oauth_error(await refresh(d.api, client, issued["refresh_token"]), 400, "invalid_grant")


async def test_racing_redemptions_issue_at_most_one_live_token(deployment: Deployment, victim: TestUser) -> None:
    """Two redemptions at once (an attacker racing the client): the code's single use holds under
    concurrency, and the loser's replay revokes what the winner got."""
    d = deployment
    client = await _new_client(d)
    pkce = Pkce.new()
    code = await code_for(d.api, d.ctx, client, victim.id, pkce, resource=d.ctx.settings.api_resource)

    answers = await asyncio.gather(*(redeem(d.api, client, code, pkce) for _ in range(4)))

    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1, [a.text for a in answers]
    for loser in answers:
        if loser.status_code != 200:
            assert_oauth_error(loser, 400, "invalid_grant")
    assert await d.api_status(winners[0].json()["access_token"]) == 401


# Each row: what the attacker changes in the token request for a code issued to `client` with
# APP_CALLBACK. Every one is refused, and the code is spent by the attempt (RFC 9700 2.1.1: a
# stolen code cannot be tried again with another guess).
CODE_ATTACKS: list[tuple[str, dict[str, str | None], int, str]] = [
    ("another-client", {"client_id": "<attacker>"}, 400, "invalid_grant"),
    ("another-registered-redirect-uri", {"redirect_uri": APP_SECOND_CALLBACK}, 400, "invalid_grant"),
    ("redirect-uri-dropped", {"redirect_uri": None}, 400, "invalid_grant"),
    ("redirect-uri-trailing-slash", {"redirect_uri": APP_CALLBACK + "/"}, 400, "invalid_grant"),
    ("redirect-uri-case", {"redirect_uri": APP_CALLBACK.upper()}, 400, "invalid_grant"),
    ("pkce-verifier-missing", {"code_verifier": None}, 400, "invalid_request"),
    ("pkce-verifier-wrong", {"code_verifier": "<other verifier>"}, 400, "invalid_grant"),
    ("pkce-plain-challenge-as-verifier", {"code_verifier": "<challenge>"}, 400, "invalid_grant"),
    ("pkce-verifier-too-short", {"code_verifier": "a" * 42}, 400, "invalid_grant"),
    ("pkce-verifier-too-long", {"code_verifier": "a" * 129}, 400, "invalid_grant"),
    ("pkce-verifier-bad-characters", {"code_verifier": "<verifier with +>"}, 400, "invalid_grant"),
    ("another-resource", {"resource": "<mcp resource>"}, 400, "invalid_target"),
]


@pytest.mark.parametrize(("changes", "status", "error"), [r[1:] for r in CODE_ATTACKS], ids=[r[0] for r in CODE_ATTACKS])
async def test_code_redemption_attacks(
    deployment: Deployment, victim: TestUser, changes: dict[str, str | None], status: int, error: str
) -> None:
    d = deployment
    client = await _new_client(d, redirect_uris=[APP_CALLBACK, APP_SECOND_CALLBACK])
    attacker = await _new_client(d, redirect_uris=[APP_CALLBACK, APP_SECOND_CALLBACK])
    pkce = Pkce.new()
    code = await code_for(d.api, d.ctx, client, victim.id, pkce, resource=d.ctx.settings.api_resource)
    substitutes = {
        "<attacker>": attacker.client_id,
        "<other verifier>": Pkce.new().verifier,
        "<challenge>": pkce.challenge,
        "<verifier with +>": pkce.verifier[:-1] + "+",
        "<mcp resource>": d.ctx.settings.mcp_resource,
    }
    changes = {k: substitutes.get(v, v) if v else v for k, v in changes.items()}

    assert_oauth_error(await redeem(d.api, client, code, pkce, **changes), status, error)

    honest = await redeem(d.api, client, code, pkce, resource=d.ctx.settings.api_resource)
    assert_oauth_error(honest, 400, "invalid_grant")  # the attempt spent the code


async def test_an_expired_code_is_refused(deployment: Deployment, victim: TestUser) -> None:
    d = deployment
    client = await _new_client(d)
    pkce = Pkce.new()
    code = await code_for(d.api, d.ctx, client, victim.id, pkce)
    async with d.ctx.db.session() as session:
        await session.execute(
            update(OAuthAuthorizationCode)
            .where(OAuthAuthorizationCode.code_hash == hash_secret(code))
            .values(expires=utcnow() - timedelta(seconds=1))
        )
    assert_oauth_error(await redeem(d.api, client, code, pkce), 400, "invalid_grant")


FORGED_CODES = [
    ("unknown", "axac_" + "A" * 43),
    ("sql-injection", "' OR '1'='1"),
    ("like-wildcard", "%"),
    ("huge", "axac_" + "A" * 5000),
    ("unicode", "axac_\u202e\u0000"),
]


@pytest.mark.parametrize("code", [c for _, c in FORGED_CODES], ids=[i for i, _ in FORGED_CODES])
async def test_forged_codes_are_refused(deployment: Deployment, code: str) -> None:
    client = await _new_client(deployment)
    assert_oauth_error(await redeem(deployment.api, client, code, Pkce.new()), 400, "invalid_grant")


AUTHORIZE_PKCE_ATTACKS: list[tuple[str, dict[str, str | None]]] = [
    ("no-challenge", {"code_challenge": None, "code_challenge_method": None}),
    ("plain-method", {"code_challenge_method": "plain"}),
    ("method-omitted-means-plain", {"code_challenge_method": None}),
    ("lowercase-s256", {"code_challenge_method": "s256"}),
    ("challenge-not-a-digest", {"code_challenge": "x" * 43 + "!"}),
]


@pytest.mark.parametrize("changes", [r[1] for r in AUTHORIZE_PKCE_ATTACKS], ids=[r[0] for r in AUTHORIZE_PKCE_ATTACKS])
async def test_authorization_without_s256_pkce_never_yields_a_code(
    deployment: Deployment, changes: dict[str, str | None]
) -> None:
    d = deployment
    client = await _new_client(d)
    params = authorize_params(client, Pkce.new(), **changes)
    response = await d.api.get("/oauth/authorize", params=params)
    assert response.status_code == 302
    back = query_of(response.headers["location"])
    assert response.headers["location"].startswith(APP_CALLBACK + "?")
    assert back["error"] == "invalid_request" and "code" not in back
    assert back["state"] == params["state"] and back["iss"] == d.ctx.settings.issuer
    async with d.ctx.db.session() as session:
        pending = await session.scalar(
            select(func.count()).select_from(OAuthAuthorizationRequest).where(
                OAuthAuthorizationRequest.client_id == client.client_id
            )
        )
    assert pending == 0, "no authorization request may be stored for it"


# --- redirect URI manipulation and open redirects -----------------------------------------------------

REGISTERED_HTTPS = "https://app.example/cb"
REGISTERED_LOOPBACK = "http://127.0.0.1/cb"

REDIRECT_TRICKS: list[tuple[str, str, str]] = [
    # (id, registered, what the attacker asks for)
    ("suffix-path", REGISTERED_HTTPS, "https://app.example/cb/evil"),
    ("suffix-chars", REGISTERED_HTTPS, "https://app.example/cbevil"),
    ("suffix-host", REGISTERED_HTTPS, "https://app.example.evil.example/cb"),
    ("prefix-host", REGISTERED_HTTPS, "https://evilapp.example/cb"),
    ("prefix-whole-uri", REGISTERED_HTTPS, "https://evil.example/https://app.example/cb"),
    ("path-traversal", REGISTERED_HTTPS, "https://app.example/cb/../evil"),
    ("path-traversal-encoded", REGISTERED_HTTPS, "https://app.example/cb/%2e%2e/evil"),
    ("path-traversal-into-cb", REGISTERED_HTTPS, "https://app.example/evil/../cb"),
    ("userinfo-before", REGISTERED_HTTPS, "https://app.example@evil.example/cb"),
    ("userinfo-after", REGISTERED_HTTPS, "https://evil.example@app.example/cb"),
    ("backslash-userinfo", REGISTERED_HTTPS, "https://app.example\\@evil.example/cb"),
    ("fragment", REGISTERED_HTTPS, "https://app.example/cb#@evil.example"),
    ("empty-fragment", REGISTERED_HTTPS, "https://app.example/cb#"),
    ("host-case", REGISTERED_HTTPS, "https://APP.example/cb"),
    ("path-case", REGISTERED_HTTPS, "https://app.example/CB"),
    ("scheme-case", REGISTERED_HTTPS, "HTTPS://app.example/cb"),
    ("trailing-slash", REGISTERED_HTTPS, "https://app.example/cb/"),
    ("extra-query", REGISTERED_HTTPS, "https://app.example/cb?next=https://evil.example"),
    ("explicit-port", REGISTERED_HTTPS, "https://app.example:443/cb"),
    ("other-port", REGISTERED_HTTPS, "https://app.example:8443/cb"),
    ("downgrade-to-http", REGISTERED_HTTPS, "http://app.example/cb"),
    ("percent-encoded-path", REGISTERED_HTTPS, "https://app.example/%63b"),
    ("javascript", REGISTERED_HTTPS, "javascript:alert(1)//https://app.example/cb"),
    ("data", REGISTERED_HTTPS, "data:text/html,<script>alert(1)</script>"),
    ("loopback-other-host", REGISTERED_LOOPBACK, "http://127.0.0.2/cb"),
    ("loopback-lookalike-host", REGISTERED_LOOPBACK, "http://127.0.0.1.evil.example/cb"),
    ("loopback-userinfo", REGISTERED_LOOPBACK, "http://127.0.0.1:8000@evil.example/cb"),
    ("loopback-other-path", REGISTERED_LOOPBACK, "http://127.0.0.1:8000/evil"),
    ("loopback-https-host-swap", REGISTERED_LOOPBACK, "https://127.0.0.1/cb"),
]


def _assert_shown_not_redirected(response: httpx.Response, error: str) -> None:
    assert response.status_code == 400, (response.status_code, response.headers.get("location"))
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert f"<code>{error}</code>" in response.text


@pytest.mark.parametrize(("registered", "asked"), [r[1:] for r in REDIRECT_TRICKS], ids=[r[0] for r in REDIRECT_TRICKS])
async def test_redirect_uri_tricks_are_shown_never_redirected(deployment: Deployment, registered: str, asked: str) -> None:
    client = await _new_client(deployment, redirect_uris=[registered])
    params = authorize_params(client, Pkce.new(), redirect_uri=asked)
    _assert_shown_not_redirected(await deployment.api.get("/oauth/authorize", params=params), "invalid_request")


OPEN_REDIRECTS: list[tuple[str, dict[str, str | None], str]] = [
    # (id, changes to a valid request, error shown) -- each also carries another error that
    # would be redirected if the redirect URI had been verified.
    ("unknown-client", {"client_id": "no-such-client", "redirect_uri": "https://evil.example/cb",
                        "response_type": "token"}, "invalid_client"),
    ("no-client-id", {"client_id": None, "redirect_uri": "https://evil.example/cb"}, "invalid_client"),
    ("unregistered-redirect-and-bad-scope", {"redirect_uri": "https://evil.example/cb", "scope": "admin"},
     "invalid_request"),
    ("unregistered-redirect-and-no-pkce", {"redirect_uri": "https://evil.example/cb", "code_challenge": None},
     "invalid_request"),
    ("javascript-redirect-and-implicit", {"redirect_uri": "javascript:alert(1)", "response_type": "token"},
     "invalid_request"),
    ("client-id-of-an-url-not-served", {"client_id": "https://evil.example/client.json",
                                        "redirect_uri": "https://evil.example/cb"}, "invalid_client"),
]


@pytest.mark.parametrize(("changes", "error"), [r[1:] for r in OPEN_REDIRECTS], ids=[r[0] for r in OPEN_REDIRECTS])
async def test_errors_before_the_redirect_uri_is_verified_are_never_redirected(
    deployment: Deployment, changes: dict[str, str | None], error: str
) -> None:
    client = await _new_client(deployment)
    params = authorize_params(client, Pkce.new(), **changes)
    _assert_shown_not_redirected(await deployment.api.get("/oauth/authorize", params=params), error)


async def test_the_error_page_cannot_be_framed_or_cached(deployment: Deployment) -> None:
    response = await deployment.api.get("/oauth/authorize", params={"client_id": "nope"})
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


async def test_an_unknown_consent_request_redirects_nowhere(deployment: Deployment, victim: TestUser) -> None:
    """Answering a request id that does not exist (or was forged) gives an error, not a redirect URL."""
    answer = await deployment.api.post(
        "/oauth/authorize",
        json={"request_id": "axar_forged", "decision": "allow"},
        headers={"Authorization": f"Bearer {await login_token(deployment.ctx, victim.id)}"},
    )
    assert_oauth_error(answer, 400, "invalid_request")
    assert "redirect_url" not in answer.json()


# --- state and mix-up (iss) ----------------------------------------------------------------------

STATES = [
    ("plain", "abc123"),
    ("url-special-characters", "a b&c=d/e?f#g%20h+i"),
    ("unicode", "état-✓-状态"),
    ("json-like", '{"csrf":"x","return":"/items"}'),
    ("long", "s" * 2048),
]


@pytest.mark.parametrize("state", [s for _, s in STATES], ids=[i for i, _ in STATES])
@pytest.mark.parametrize("outcome", ["code", "denied", "error"])
async def test_state_comes_back_byte_for_byte_with_iss(
    deployment: Deployment, victim: TestUser, state: str, outcome: str
) -> None:
    """RFC 6749 10.12 (the client's CSRF defence needs state back unaltered) and RFC 9207 (``iss``
    on every authorization response, success or error, so a client can detect a mix-up)."""
    d = deployment
    client = await _new_client(d)
    if outcome == "error":
        params = authorize_params(client, Pkce.new(), state=state, scope="no-such-scope")
        response = await d.api.get("/oauth/authorize", params=params)
        assert response.status_code == 302
        url = response.headers["location"]
    else:
        url = await consent(d.api, d.ctx, victim.id, authorize_params(client, Pkce.new(), state=state),
                            decision="allow" if outcome == "code" else "deny")
    assert url.startswith(APP_CALLBACK + "?")
    back = query_of(url)
    assert back["state"] == state
    assert back["iss"] == d.ctx.settings.issuer
    assert ("code" in back) == (outcome == "code")


async def test_no_state_sent_means_none_invented(deployment: Deployment, victim: TestUser) -> None:
    d = deployment
    client = await _new_client(d)
    url = await consent(d.api, d.ctx, victim.id, authorize_params(client, Pkce.new(), state=None))
    assert "state" not in query_of(url)


async def test_a_repeated_state_is_refused(deployment: Deployment) -> None:
    """Two ``state`` values would leave it to chance which one comes back (RFC 6749 3.1)."""
    client = await _new_client(deployment)
    params = list(authorize_params(client, Pkce.new()).items()) + [("state", "second")]
    response = await deployment.api.get("/oauth/authorize", params=params)
    assert response.status_code == 302
    back = query_of(response.headers["location"])
    assert back["error"] == "invalid_request" and "code" not in back and "state" not in back


@pytest.mark.parametrize("host", ["evil.example", "localhost:8090.evil.example", "127.0.0.1:1"])
async def test_the_issuer_and_endpoints_ignore_the_host_header(deployment: Deployment, host: str) -> None:
    """RFC 8414 3.3 / RFC 9700 4.4: the issuer a client compares comes from settings, so a request
    with a forged Host cannot make the server name another issuer or endpoint."""
    d = deployment
    metadata = (await d.api.get("/.well-known/oauth-authorization-server", headers={"Host": host})).json()
    assert metadata["issuer"] == d.ctx.settings.issuer
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert all(
        value.startswith(d.ctx.settings.public_url)
        for key, value in metadata.items()
        if key.endswith("_endpoint")
    )
    client = await _new_client(d)
    response = await d.api.get("/oauth/authorize", params=authorize_params(client, Pkce.new()), headers={"Host": host})
    assert response.headers["location"].startswith(f"{d.ctx.settings.web_url}/oauth/consent?")


# --- audiences, expiry, revocation, refresh ---------------------------------------------------------


async def test_tokens_work_only_at_their_own_audience(deployment: Deployment, victim: TestUser) -> None:
    """RFC 8707 / RFC 9700 2.3: a token minted for the REST API is refused by the MCP server and
    the other way round (a compromised resource cannot replay what it was sent elsewhere)."""
    d = deployment
    client = await _new_client(d)
    for_api = (await tokens(d.api, d.ctx, client, victim.id, resource=d.ctx.settings.api_resource))["access_token"]
    for_mcp = (await tokens(d.api, d.ctx, client, victim.id))["access_token"]
    assert (await d.api_status(for_api), await d.mcp_status(for_api)) == (200, 401)
    assert (await d.api_status(for_mcp), await d.mcp_status(for_mcp)) == (401, 200)


async def test_a_token_for_another_resource_cannot_be_asked_for(deployment: Deployment) -> None:
    client = await _new_client(deployment)
    params = authorize_params(client, Pkce.new(), resource="https://evil.example/mcp")
    response = await deployment.api.get("/oauth/authorize", params=params)
    assert query_of(response.headers["location"])["error"] == "invalid_target"


async def test_an_expired_access_token_is_refused_even_while_cached(deployment: Deployment, victim: TestUser) -> None:
    """RFC 6819 5.1.5.3: a token stops working when it expires, even if a resource server verified
    it a moment before (the verification cache never outlives the token)."""
    d = deployment
    ttl = timedelta(seconds=4)  # long enough for the first calls on a busy machine
    issued = time.monotonic()
    async with d.ctx.db.session() as session:
        for_mcp, _ = await issue_access_token(session, user_id=victim.id, client_id="test", scopes=["profile:read"],
                                              resource=d.ctx.settings.mcp_resource, ttl=ttl)
        for_api, _ = await issue_access_token(session, user_id=victim.id, client_id="test", scopes=["profile:read"],
                                              resource=d.ctx.settings.api_resource, ttl=ttl)
    assert (await d.mcp_status(for_mcp), await d.api_status(for_api)) == (200, 200)  # both cached now
    assert time.monotonic() - issued < ttl.total_seconds(), "too slow to check the cached token in time"
    await asyncio.sleep(issued + ttl.total_seconds() + 0.3 - time.monotonic())
    assert (await d.mcp_status(for_mcp), await d.api_status(for_api)) == (401, 401)


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
async def test_a_revoked_token_stops_working_at_once(deployment: Deployment, victim: TestUser, which: str) -> None:
    """RFC 7009 2.1: revoking an access token kills it at once (even though it was cached);
    revoking a refresh token kills its whole grant, access tokens included. (Revoking only the
    access token leaves the refresh token alive, which RFC 7009 permits: the client logs out of
    one session, not the grant.)"""
    d = deployment
    client = await _new_client(d)
    issued = await tokens(d.api, d.ctx, client, victim.id)
    assert await d.mcp_status(issued["access_token"]) == 200  # cached now
    revoked = await d.api.post("/oauth/revoke", data={"token": issued[which], "client_id": client.client_id})
    assert revoked.status_code == 200
    assert await d.mcp_status(issued["access_token"]) == 401
    if which == "refresh_token":
        assert_oauth_error(await refresh(d.api, client, issued["refresh_token"]), 400, "invalid_grant")


async def test_another_client_cannot_revoke_or_probe_a_token(deployment: Deployment, victim: TestUser) -> None:
    d = deployment
    client, attacker = await _new_client(d), await _new_client(d)
    issued = await tokens(d.api, d.ctx, client, victim.id)
    for token in (issued["access_token"], issued["refresh_token"]):
        answer = await d.api.post("/oauth/revoke", data={"token": token, "client_id": attacker.client_id})
        assert answer.status_code == 200  # the same answer as for a revoked or unknown token
    assert await d.mcp_status(issued["access_token"]) == 200
    assert (await refresh(d.api, client, issued["refresh_token"])).status_code == 200


async def test_refresh_tokens_are_bound_to_their_client(deployment: Deployment, victim: TestUser) -> None:
    d = deployment
    client, attacker = await _new_client(d), await _new_client(d)
    issued = await tokens(d.api, d.ctx, client, victim.id)
    assert_oauth_error(await refresh(d.api, attacker, issued["refresh_token"]), 400, "invalid_grant")
    assert (await refresh(d.api, client, issued["refresh_token"])).status_code == 200


async def test_a_refreshed_away_token_is_refused_and_its_reuse_revokes_the_chain(
    deployment: Deployment, victim: TestUser
) -> None:
    """RFC 9700 4.14.2: refresh tokens rotate; once the new one is used, presenting the old one is
    reuse (a stolen copy), and the whole grant dies: every access and refresh token in it."""
    d = deployment
    client = await _new_client(d)
    first = await tokens(d.api, d.ctx, client, victim.id)
    second = (await refresh(d.api, client, first["refresh_token"])).json()
    third = (await refresh(d.api, client, second["refresh_token"])).json()  # second's first use retires first
    assert all(await asyncio.gather(*(_live(d, t["access_token"]) for t in (first, second, third))))

    reuse = await refresh(d.api, client, first["refresh_token"])

    assert_oauth_error(reuse, 400, "invalid_grant")
    for issued in (first, second, third):
        assert await d.mcp_status(issued["access_token"]) == 401
    assert_oauth_error(await refresh(d.api, client, third["refresh_token"]), 400, "invalid_grant")


async def _live(d: Deployment, token: str) -> bool:
    return await d.mcp_status(token) == 200


async def test_an_expired_refresh_token_is_refused(deployment: Deployment, victim: TestUser) -> None:
    d = deployment
    client = await _new_client(d)
    issued = await tokens(d.api, d.ctx, client, victim.id)
    async with d.ctx.db.session() as session:
        await session.execute(
            update(OAuthRefreshToken)
            .where(OAuthRefreshToken.token_hash == hash_secret(issued["refresh_token"]))
            .values(expires=utcnow() - timedelta(seconds=1))
        )
    assert_oauth_error(await refresh(d.api, client, issued["refresh_token"]), 400, "invalid_grant")


async def test_only_the_first_party_login_may_answer_a_consent_request(deployment: Deployment, victim: TestUser) -> None:
    """An OAuth client holding a user's token (for the API, even) cannot approve its own request."""
    d = deployment
    client = await _new_client(d)
    api_token = (await tokens(d.api, d.ctx, client, victim.id, resource=d.ctx.settings.api_resource))["access_token"]
    response = await d.api.get("/oauth/authorize", params=authorize_params(client, Pkce.new()))
    request_id = query_of(response.headers["location"])["request_id"]
    answer = await d.api.post(
        "/oauth/authorize",
        json={"request_id": request_id, "decision": "allow"},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert_oauth_error(answer, 401, "invalid_token")


# --- dynamic client registration ------------------------------------------------------------------

BAD_REGISTRATIONS: list[tuple[str, Any, str]] = [
    ("javascript-redirect", {"redirect_uris": ["javascript:alert(document.cookie)"]}, "invalid_redirect_uri"),
    ("javascript-mixed-case", {"redirect_uris": ["JavaScript:alert(1)"]}, "invalid_redirect_uri"),
    ("data-redirect", {"redirect_uris": ["data:text/html,<script>alert(1)</script>"]}, "invalid_redirect_uri"),
    ("file-redirect", {"redirect_uris": ["file:///etc/passwd"]}, "invalid_redirect_uri"),
    ("http-non-loopback", {"redirect_uris": ["http://app.example/cb"]}, "invalid_redirect_uri"),
    ("http-loopback-lookalike", {"redirect_uris": ["http://localhost.evil.example/cb"]}, "invalid_redirect_uri"),
    ("http-private-address", {"redirect_uris": ["http://192.168.1.10/cb"]}, "invalid_redirect_uri"),
    ("fragment", {"redirect_uris": ["https://app.example/cb#x"]}, "invalid_redirect_uri"),
    ("userinfo", {"redirect_uris": ["https://user:pw@app.example/cb"]}, "invalid_redirect_uri"),
    ("one-bad-among-good", {"redirect_uris": [APP_CALLBACK, "javascript:alert(1)"]}, "invalid_redirect_uri"),
    ("too-many-redirects", {"redirect_uris": [f"https://app.example/{i}" for i in range(11)]},
     "invalid_redirect_uri"),
    ("huge-redirect", {"redirect_uris": ["https://app.example/" + "a" * 3000]}, "invalid_redirect_uri"),
    ("redirects-not-a-list", {"redirect_uris": APP_CALLBACK}, "invalid_redirect_uri"),
    ("redirects-empty", {"redirect_uris": []}, "invalid_redirect_uri"),
    ("redirect-not-a-string", {"redirect_uris": [{"uri": APP_CALLBACK}]}, "invalid_redirect_uri"),
    ("javascript-logo", {"redirect_uris": [APP_CALLBACK], "logo_uri": "javascript:alert(1)"},
     "invalid_client_metadata"),
    ("javascript-client-uri", {"redirect_uris": [APP_CALLBACK], "client_uri": "javascript:alert(1)"},
     "invalid_client_metadata"),
    ("huge-name", {"redirect_uris": [APP_CALLBACK], "client_name": "n" * 256}, "invalid_client_metadata"),
    ("name-not-a-string", {"redirect_uris": [APP_CALLBACK], "client_name": ["a"]}, "invalid_client_metadata"),
    ("implicit-grant", {"redirect_uris": [APP_CALLBACK], "grant_types": ["implicit"]}, "invalid_client_metadata"),
    ("password-grant", {"redirect_uris": [APP_CALLBACK], "grant_types": ["authorization_code", "password"]},
     "invalid_client_metadata"),
    ("client-credentials", {"redirect_uris": [APP_CALLBACK], "grant_types": ["client_credentials"]},
     "invalid_client_metadata"),
    ("token-response-type", {"redirect_uris": [APP_CALLBACK], "response_types": ["token"]},
     "invalid_client_metadata"),
    ("unknown-auth-method", {"redirect_uris": [APP_CALLBACK], "token_endpoint_auth_method": "private_key_jwt"},
     "invalid_client_metadata"),
    ("scope-not-a-string", {"redirect_uris": [APP_CALLBACK], "scope": ["items:read"]}, "invalid_client_metadata"),
    ("json-array", [APP_CALLBACK], "invalid_client_metadata"),
    ("json-string", "redirect_uris", "invalid_client_metadata"),
    ("json-null", None, "invalid_client_metadata"),
]


async def _client_count(ctx: AppContext) -> int:
    async with ctx.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(OAuthClient)) or 0)


@pytest.mark.parametrize(("body", "error"), [r[1:] for r in BAD_REGISTRATIONS], ids=[r[0] for r in BAD_REGISTRATIONS])
async def test_bad_registrations_are_refused_and_store_nothing(deployment: Deployment, body: Any, error: str) -> None:
    before = await _client_count(deployment.ctx)
    response = await deployment.api.post("/oauth/register", content=json.dumps(body),
                                         headers={"Content-Type": "application/json"})
    assert_oauth_error(response, 400, error)
    assert await _client_count(deployment.ctx) == before


MALFORMED_BODIES: list[tuple[str, bytes, str]] = [
    ("not-json", b"redirect_uris=https://app.example/cb", "application/x-www-form-urlencoded"),
    ("truncated-json", b'{"redirect_uris": ["https://app.example/cb"', "application/json"),
    ("invalid-utf8", b'{"client_name": "\xff\xfe"}', "application/json"),
    ("deeply-nested", b'{"x":' * 5000 + b"1" + b"}" * 5000, "application/json"),
    ("oversized", json.dumps({"redirect_uris": [APP_CALLBACK], "software_id": "x" * 20_000}).encode(),
     "application/json"),
    ("empty", b"", "application/json"),
]


@pytest.mark.parametrize(("body", "content_type"), [r[1:] for r in MALFORMED_BODIES], ids=[r[0] for r in MALFORMED_BODIES])
async def test_malformed_or_oversized_registration_bodies_get_json_errors(
    deployment: Deployment, body: bytes, content_type: str
) -> None:
    before = await _client_count(deployment.ctx)
    response = await deployment.api.post("/oauth/register", content=body, headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "invalid_client_metadata"
    assert await _client_count(deployment.ctx) == before


async def test_registration_cannot_choose_its_client_id_or_secret(deployment: Deployment) -> None:
    response = await deployment.api.post(
        "/oauth/register",
        json={"redirect_uris": [APP_CALLBACK], "client_id": "axiom-api", "client_secret": "chosen",
              "token_endpoint_auth_method": "client_secret_post"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["client_id"] not in ("axiom-api", "chosen") and body["client_secret"] != "chosen"


async def test_open_registration_is_rate_limited_per_address(ctx: AppContext) -> None:
    """Open DCR was unlimited in the original: a loop could fill the table."""
    limit = 5
    settings = ctx.settings.model_copy(update={"registration_rate_limit": limit})
    app = create_auth_app(AppContext(settings=settings, db=ctx.db))
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as api:
        answers = [
            await api.post("/oauth/register", json={"redirect_uris": [APP_CALLBACK], "token_endpoint_auth_method": "none"})
            for _ in range(limit + 2)
        ]
    assert [a.status_code for a in answers] == [201] * limit + [429, 429]
    assert answers[-1].json()["error"] and int(answers[-1].headers["retry-after"]) > 0


async def test_the_consent_page_tells_the_truth_about_a_registered_client(
    deployment: Deployment, victim: TestUser
) -> None:
    """Consent phishing: anyone can register a client named "Claude" with a script in its
    metadata. The page escapes what the client chose, flags it as unverified, and names the host
    the code will really go to."""
    d = deployment
    client = await _new_client(d, redirect_uris=["https://evil.example/cb"],
                               client_name='Claude<script>alert("name")</script>',
                               client_uri='https://evil.example/"><script>alert("uri")</script>')
    response = await d.api.get("/oauth/authorize", params=authorize_params(client, Pkce.new()))
    consent_page = urlsplit(response.headers["location"])
    transport = httpx.ASGITransport(app=create_web_app(d.ctx), client=(own_address(), 1))
    async with httpx.AsyncClient(transport=transport, base_url=d.ctx.settings.web_url) as web:
        await sign_in_directly(d.ctx, web, victim.id)
        page = await web.get(f"{consent_page.path}?{consent_page.query}")
    assert page.status_code == 200, page.text
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "Unverified app" in page.text
    assert '<strong class="redirect-host">evil.example</strong>' in page.text
