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
