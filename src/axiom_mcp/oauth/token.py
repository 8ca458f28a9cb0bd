"""The token endpoint (RFC 6749 section 3.2): the authorization_code and refresh_token grants.

- authorization_code (RFC 6749 4.1.3, RFC 7636 4.6, OAuth 2.1 4.1.3): the code is single use,
  bound to its client and redirect URI, and redeemed only with the PKCE verifier. A code presented
  a second time revokes every token issued from it (``grants.revoke_grant``).
- refresh_token (RFC 6749 section 6, OAuth 2.1 4.3.1, RFC 9700 4.14.2): rotated on every use.
  Clients retry and race, so for ``settings.refresh_grace`` after its first use the previous token
  may be presented again while its successor is unused: that replaces the successor. Anything
  else is reuse of a stolen copy and revokes the whole grant (every access and refresh token):
  a replaced token presented after the grace, or a token whose successor has been used.
- Refresh tokens are issued to clients whose registered grant_types include ``refresh_token``
  (Claude and ChatGPT register it; ChatGPT does not ask for ``offline_access``).
- Access tokens live ``settings.access_token_ttl`` (90 days, as the original server gave them:
  Claude often never refreshes); their audience is the resource bound at authorization (RFC 8707).

Why not the mcp SDK's ``TokenHandler``: it is bound to Starlette and its provider protocol, has
no notion of replay revocation, rotation grace or our resource rules, and parses ``redirect_uri``
as ``AnyUrl`` (normalising it) where we compare exact strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import oauth_tokens
from axiom_mcp.data.consents import find_consent, touch_consent
from axiom_mcp.data.tokens import issue_access_token
from axiom_mcp.ids import utcnow
from axiom_mcp.oauth import pkce
from axiom_mcp.oauth.clients import ClientInfo, touch_client
from axiom_mcp.oauth.errors import (
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
    OAuthError,
    Revoked,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from axiom_mcp.oauth.grants import revoke_grant
from axiom_mcp.oauth.params import Params
from axiom_mcp.oauth.scopes import OFFLINE, format_scope, ordered, split_scope
from axiom_mcp.security.secrets import new_secret
from axiom_mcp.settings import Settings

REFRESH_TOKEN_PREFIX = "axrt_"


@dataclass
class TokenResponse:
    body: dict[str, Any]
    revoked: list[Revoked] = field(default_factory=list)


def _check_resource(params: Params, bound: str | None) -> None:
    """A token request may repeat the resource it was authorized for, not name another (RFC 8707 2.2)."""
    asked = set(params.all("resource"))
    if asked and asked != {bound}:
        raise InvalidTarget("The resource differs from the one this grant was authorized for.")


async def _issue(
    session: AsyncSession,
    settings: Settings,
    client: ClientInfo,
    *,
    user_id: str,
    grant_id: str,
    scopes: list[str],
    resource: str | None,
    refresh_scopes: list[str],
    parent_id: str | None,
    refreshable: bool = True,
) -> dict[str, Any]:
    raw, _ = await issue_access_token(
        session,
        user_id=user_id,
        client_id=client.client_id,
        scopes=scopes,
        resource=resource,
        ttl=settings.access_token_ttl,
        grant_id=grant_id,
    )
    body: dict[str, Any] = {
        "access_token": raw,
        "token_type": "Bearer",
        "expires_in": int(settings.access_token_ttl.total_seconds()),
        "scope": format_scope(scopes),
    }
    if client.gets_refresh_tokens and refreshable:
        refresh = new_secret(REFRESH_TOKEN_PREFIX)
        await oauth_tokens.add_refresh_token(
            session,
            refresh,
            grant_id=grant_id,
            parent_id=parent_id,
            client_id=client.client_id,
            user_id=user_id,
            scopes=format_scope(refresh_scopes),
            resource=resource,
            ttl=settings.refresh_token_ttl,
        )
        body["refresh_token"] = refresh
    await touch_consent(session, user_id, client.client_id)
    await touch_client(session, client.client_id)
    await session.flush()
    return body


async def exchange_code(session: AsyncSession, settings: Settings, client: ClientInfo, params: Params) -> TokenResponse:
    """RFC 6749 section 4.1.3 with RFC 7636 section 4.5."""
    raw = params.get("code")
    if raw is None:
        raise InvalidRequest("code is required.")
    code = await oauth_tokens.find_code(session, raw)
    if code is None:
        raise InvalidGrant("Unknown authorization code.")
    # Burn the code before anything else can fail: whatever happens next, it never works again.
    if not await oauth_tokens.burn_code(session, code.id):
        revoked = await revoke_grant(session, code.grant_id)
        raise InvalidGrant("This authorization code was already used; its tokens are revoked.", revoked=[revoked])
    try:
        if code.expires <= utcnow():
            raise InvalidGrant("The authorization code has expired.")
        if code.client_id != client.client_id:
            raise InvalidGrant("The authorization code was issued to another client.")
        redirect_uri = params.get("redirect_uri")
        if redirect_uri is None and code.redirect_uri_provided:
            raise InvalidGrant("redirect_uri is required: the authorization request named one.")
        if redirect_uri is not None and redirect_uri != code.redirect_uri:
            raise InvalidGrant("redirect_uri differs from the authorization request's.")
        pkce.verify(params.get("code_verifier"), code.code_challenge)
        _check_resource(params, code.resource)
    except OAuthError as exc:
        exc.commit = True  # the code stays burned
        raise
    scopes = split_scope(code.scopes)
    body = await _issue(
        session,
        settings,
        client,
        user_id=code.user_id,
        grant_id=code.grant_id,
        scopes=scopes,
        resource=code.resource,
        refresh_scopes=scopes,
        parent_id=None,
        refreshable=code.refreshable,
    )
    return TokenResponse(body)


async def refresh(session: AsyncSession, settings: Settings, client: ClientInfo, params: Params) -> TokenResponse:
    """RFC 6749 section 6 with rotation and reuse detection (OAuth 2.1 section 4.3.1)."""
    raw = params.get("refresh_token")
    if raw is None:
        raise InvalidRequest("refresh_token is required.")
    if not client.gets_refresh_tokens:
        raise UnauthorizedClient("This client is not registered for the refresh_token grant.")
    row = await oauth_tokens.find_refresh_token(session, raw)
    if row is None or row.client_id != client.client_id:
        raise InvalidGrant("Unknown refresh token.")
    now = utcnow()
    in_grace = row.rotated_at is not None and now - row.rotated_at <= settings.refresh_grace
    if row.revoked and in_grace:
        raise InvalidGrant("The refresh token was replaced by a newer one.")  # the loser of a race
    if row.revoked or row.successor_used or (row.rotated_at is not None and not in_grace):
        revoked = await revoke_grant(session, row.grant_id)
        raise InvalidGrant("This refresh token was replaced or revoked; its grant is revoked.", revoked=[revoked])
    if row.expires <= now:
        raise InvalidGrant("The refresh token has expired.")
    _check_resource(params, row.resource)
    granted = split_scope(row.scopes)
    asked = params.get("scope")
    scopes = granted
    if asked is not None:
        wanted = split_scope(asked)
        if not wanted or any(s not in granted for s in wanted):
            raise InvalidScope("A refresh may only narrow the scopes originally granted.")
        scopes = ordered(wanted)
    consent = await find_consent(session, row.user_id, row.client_id)
    if consent is not None:  # the person may have taken scopes away since (Connected apps)
        allowed = split_scope(consent.scopes)
        if OFFLINE in granted and OFFLINE not in allowed:
            raise InvalidGrant("The person no longer lets this app stay connected; authorize again.")
        scopes = [s for s in scopes if s in allowed]

    if not await oauth_tokens.mark_replaced(session, row.id, now):
        # A retry inside the grace: the successor handed out before was never used.
        # Replace it, so at most one unused successor exists.
        await oauth_tokens.replace_unused_successors(session, row.id, now)
    if row.parent_id is not None:
        # This token's first use retires its predecessor for good.
        await oauth_tokens.retire(session, row.parent_id)
    body = await _issue(
        session,
        settings,
        client,
        user_id=row.user_id,
        grant_id=row.grant_id,
        scopes=scopes,
        resource=row.resource,
        refresh_scopes=granted,  # RFC 6749 section 6: a new refresh token keeps the original scope
        parent_id=row.id,
    )
    return TokenResponse(body)


async def token(session: AsyncSession, settings: Settings, client: ClientInfo, params: Params) -> TokenResponse:
    """Dispatch on ``grant_type`` (RFC 6749 section 4.1.3 / 6)."""
    grant_type = params.get("grant_type")
    if grant_type is None:
        raise InvalidRequest("grant_type is required.")
    if grant_type == "authorization_code":
        return await exchange_code(session, settings, client, params)
    if grant_type == "refresh_token":
        return await refresh(session, settings, client, params)
    raise UnsupportedGrantType(f"Unsupported grant_type {grant_type[:100]!r}.")
