"""The OAuth code flow over HTTP, step by step, so attack tests can bend any step.

Every step goes through the auth service's real endpoints (in process, real database):
registration (RFC 7591), GET /oauth/authorize, the seed's POST /oauth/authorize with the user's
first-party login token (what the consent page does), and POST /oauth/token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from axiom_mcp.context import AppContext
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.oauth.pkce import s256
from tests.support.factories import make_token

APP_CALLBACK = "https://app.example/cb"
APP_SECOND_CALLBACK = "https://app.example/second"


@dataclass
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        return cls(verifier, s256(verifier))


@dataclass
class Client:
    client_id: str
    secret: str | None
    redirect_uris: list[str]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


async def register(api: httpx.AsyncClient, redirect_uris: list[str] | None = None, **metadata: Any) -> Client:
    body = {"redirect_uris": redirect_uris or [APP_CALLBACK], "token_endpoint_auth_method": "none", **metadata}
    response = await api.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    info = response.json()
    return Client(info["client_id"], info.get("client_secret"), info["redirect_uris"])


def authorize_params(client: Client, pkce: Pkce, **extra: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": "state-" + secrets.token_hex(4),
        **extra,
    }
    return {k: v for k, v in params.items() if v is not None}


async def login_token(ctx: AppContext, user_id: str) -> str:
    """What POST /api/v1/auth/login gives the web app (the only token that may answer consent)."""
    return await make_token(ctx, user_id, ["profile:read"], client_id=FIRST_PARTY_CLIENT_ID)


async def consent(api: httpx.AsyncClient, ctx: AppContext, user_id: str, params: dict[str, str],
                  decision: str = "allow") -> str:
    """GET /oauth/authorize with ``params``, then the user's answer: the URL sent back to the client."""
    response = await api.get("/oauth/authorize", params=params)
    assert response.status_code == 302, response.text
    consent_page = response.headers["location"]
    assert consent_page.startswith(f"{ctx.settings.web_url}/oauth/consent?request_id=")
    answer = await api.post(
        "/oauth/authorize",
        json={"request_id": query_of(consent_page)["request_id"], "decision": decision},
        headers={"Authorization": f"Bearer {await login_token(ctx, user_id)}"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["redirect_url"])


async def code_for(api: httpx.AsyncClient, ctx: AppContext, client: Client, user_id: str, pkce: Pkce,
                   **extra: str | None) -> str:
    redirect = await consent(api, ctx, user_id, authorize_params(client, pkce, **extra))
    return query_of(redirect)["code"]


def code_form(client: Client, code: str, pkce: Pkce, **changes: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "code_verifier": pkce.verifier,
        **changes,
    }
    return {k: v for k, v in form.items() if v is not None}


async def redeem(api: httpx.AsyncClient, client: Client, code: str, pkce: Pkce, **changes: str | None) -> httpx.Response:
    return await api.post("/oauth/token", data=code_form(client, code, pkce, **changes))


async def tokens(api: httpx.AsyncClient, ctx: AppContext, client: Client, user_id: str,
                 **extra: str | None) -> dict[str, Any]:
    """The whole flow: a token response."""
    pkce = Pkce.new()
    code = await code_for(api, ctx, client, user_id, pkce, **extra)
    response = await redeem(api, client, code, pkce, resource=extra.get("resource"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def refresh(api: httpx.AsyncClient, client: Client, refresh_token: str, **extra: str) -> httpx.Response:
    return await api.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id, **extra},
    )


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    """An RFC 6749 section 5.2 error: the status, JSON ``error`` (and never cached)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert response.json()["error"] == error, response.text
    assert response.headers.get("cache-control") == "no-store"
