"""Helpers for the OAuth tests: clients, PKCE pairs and the authorization steps, through the real core."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from axiom_mcp.context import AppContext
from axiom_mcp.db.tables import OAuthClient
from axiom_mcp.oauth import authorize
from axiom_mcp.oauth.params import Params
from axiom_mcp.oauth.pkce import s256
from axiom_mcp.security.secrets import hash_secret

CLAUDE_REDIRECT = "https://claude.ai/api/mcp/auth_callback"
CHATGPT_REDIRECT = "https://chatgpt.com/connector_platform_oauth_redirect"


@dataclass
class Pkce:
    verifier: str
    challenge: str


def pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    return Pkce(verifier, s256(verifier))


async def add_client(
    ctx: AppContext,
    *,
    redirect_uris: list[str] | None = None,
    secret: str | None = None,
    grant_types: list[str] | None = None,
    scope: str | None = None,
    name: str = "Test app",
) -> str:
    """A registered client inserted straight into the table (registration has its own tests)."""
    client_id = f"test-{secrets.token_hex(8)}"
    async with ctx.db.session() as session:
        session.add(
            OAuthClient(
                client_id=client_id,
                client_secret_hash=hash_secret(secret) if secret else None,
                client_name=name,
                redirect_uris=redirect_uris or [CLAUDE_REDIRECT],
                grant_types=grant_types or ["authorization_code", "refresh_token"],
                response_types=["code"],
                token_endpoint_auth_method="client_secret_basic" if secret else "none",
                scope=scope,
                source="dcr",
            )
        )
    return client_id


async def start_request(ctx: AppContext, client_id: str, challenge: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "xyz",
        **extra,
    }
    async with ctx.db.session() as session:
        return await authorize.start(session, ctx.settings, Params(params.items()))


async def approved_code(ctx: AppContext, client_id: str, user_id: str, challenge: str, **extra: str) -> str:
    request_id = await start_request(ctx, client_id, challenge, **extra)
    async with ctx.db.session() as session:
        url = await authorize.approve(session, ctx.settings, request_id, user_id)
    return query_of(url)["code"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# --- over HTTP ------------------------------------------------------------------------------------

import httpx  # noqa: E402

from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID  # noqa: E402
from tests.support.factories import make_token  # noqa: E402


def with_settings(ctx: AppContext, **overrides: object) -> AppContext:
    """Another context on the same database, with some settings changed."""
    return AppContext(settings=ctx.settings.model_copy(update=overrides), db=ctx.db)


async def login_token(ctx: AppContext, user_id: str) -> str:
    """What POST /api/v1/auth/login hands the web app: a first-party API token."""
    return await make_token(ctx, user_id, ["profile:read"], client_id=FIRST_PARTY_CLIENT_ID)


async def register(api: httpx.AsyncClient, **metadata: object) -> dict[str, object]:
    body = {"redirect_uris": [CLAUDE_REDIRECT], "token_endpoint_auth_method": "none", **metadata}
    response = await api.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def authorize_query(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "xyz",
        **extra,
    }


async def code_over_http(
    api: httpx.AsyncClient, ctx: AppContext, client_id: str, user_id: str, challenge: str, **extra: str
) -> dict[str, str]:
    """GET /oauth/authorize, then the seed-compatible POST /oauth/authorize: the redirect's query."""
    response = await api.get("/oauth/authorize", params=authorize_query(client_id, challenge, **extra))
    assert response.status_code == 302, response.text
    consent = response.headers["location"]
    assert consent.startswith(f"{ctx.settings.web_url}/oauth/consent?request_id=")
    request_id = query_of(consent)["request_id"]
    answer = await api.post(
        "/oauth/authorize",
        json={"request_id": request_id, "decision": "allow"},
        headers={"Authorization": f"Bearer {await login_token(ctx, user_id)}"},
    )
    assert answer.status_code == 200, answer.text
    return query_of(answer.json()["redirect_url"])


async def tokens_for(
    api: httpx.AsyncClient, ctx: AppContext, client_id: str, user_id: str, **extra: str
) -> dict[str, object]:
    """The whole code flow for a public client: the token response."""
    pair = pkce()
    code = (await code_over_http(api, ctx, client_id, user_id, pair.challenge, **extra))["code"]
    response = await api.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "code_verifier": pair.verifier,
            "redirect_uri": CLAUDE_REDIRECT,
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())
