"""The authorization endpoint (RFC 6749 section 4.1.1, OAuth 2.1 section 4.1) and the consent.

GET /oauth/authorize (``start``) validates the request and stores it server-side; the browser goes
to the web app's consent page carrying only the opaque request id. The web app shows
``load_pending`` and answers with ``approve`` or ``deny``, which return the URL to send the
browser to: the client's redirect URI with ``code``/``error``, ``state`` and ``iss`` (RFC 9207).

Errors before the client and its redirect URI are verified are shown to the user, never
redirected (RFC 6749 section 4.1.2.1); later ones go back to the client (``RedirectToClient``).

Why not the mcp SDK's ``AuthorizationHandler``: it redirects straight from parameters to the
provider, where we need a stored pending request, CIMD clients, RFC 8707 resource rules and
RFC 9207 ``iss``, and it normalises redirect URIs through pydantic ``AnyUrl`` (exact string
matching is the rule here).

``prompt`` (OpenID Connect Core 3.1.2.1, which MCP clients send as a plain OAuth parameter):
``login`` makes the user enter their password again before consenting, even with a live session;
"again" means after the request was made, so the fresh login counts for requests already pending
and never for a later one (no loop, no reuse). ``consent`` needs nothing: consent is never skipped.
``none`` cannot be honoured (the user always answers) and goes back as ``interaction_required``.
``select_account`` is carried; the consent page always offers to switch accounts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import authorization_codes, oauth_clients
from axiom_mcp.db.tables import OAuthAuthorizationRequest, OAuthClient
from axiom_mcp.errors import ValidationFailed
from axiom_mcp.ids import new_id, utcnow
from axiom_mcp.oauth.client_metadata import CODE_GRANT
from axiom_mcp.oauth.clients import ClientInfo, client_info, find_client
from axiom_mcp.oauth.consents import Sees, record_consent
from axiom_mcp.oauth.errors import (
    InteractionRequired,
    InvalidRequest,
    LoginRequired,
    OAuthError,
    RedirectToClient,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from axiom_mcp.oauth.params import Params
from axiom_mcp.oauth.pkce import check_challenge
from axiom_mcp.oauth.redirects import host_warning, redirect_host, redirect_uri_matches, with_query
from axiom_mcp.oauth.resources import resolve_resource
from axiom_mcp.oauth.scopes import OFFLINE, format_scope, requested_scopes, split_scope
from axiom_mcp.security.secrets import hash_secret, new_secret
from axiom_mcp.settings import Settings

REQUEST_ID_PREFIX = "axar_"
CODE_PREFIX = "axac_"
MAX_STATE_LENGTH = 2048
PROMPT_VALUES = ("none", "login", "consent", "select_account")


@dataclass
class PendingAuthorization:
    """A validated authorization request waiting for the user's answer (what the consent page shows)."""

    request_id: str
    client_id: str
    client_name: str
    client_source: str
    """``dcr``, ``cimd`` or ``first_party``."""
    client_uri: str | None
    redirect_uri: str
    redirect_host: str
    """The host the code goes to, in ASCII form."""
    redirect_host_warning: str | None
    """Said when that host is not plain ASCII (``redirects.host_warning``)."""
    scopes: list[str]
    resource: str | None
    state: str | None
    prompt: str | None
    created: datetime
    expires: datetime

    def needs_login(self, authenticated_at: datetime) -> bool:
        """Whether the user must sign in again first: ``prompt=login`` and no login since the request."""
        return needs_login(self.prompt, self.created, authenticated_at)


def needs_login(prompt: str | None, requested_at: datetime, authenticated_at: datetime) -> bool:
    return "login" in (prompt or "").split(" ") and authenticated_at <= requested_at


def consent_url(settings: Settings, request_id: str) -> str:
    """Where GET /oauth/authorize sends the browser: the web app's consent page."""
    return f"{settings.web_url}/oauth/consent?request_id={quote(request_id, safe='')}"


def authorization_response(settings: Settings, redirect_uri: str, **params: str | None) -> str:
    """The redirect back to the client, always carrying ``iss`` (RFC 9207 section 2)."""
    return with_query(redirect_uri, {**params, "iss": settings.issuer})


def error_response(settings: Settings, redirect_uri: str, error: OAuthError, state: str | None) -> str:
    return authorization_response(
        settings,
        redirect_uri,
        error=error.error,
        error_description=error.description or None,
        state=state,
    )


def _redirect_uri(client: ClientInfo, asked: str | None) -> tuple[str, bool]:
    """The verified redirect URI and whether the request named it (OAuth 2.1 section 4.1.1)."""
    if asked is None:
        if len(client.redirect_uris) == 1:
            return client.redirect_uris[0], False
        raise InvalidRequest("redirect_uri is required: the client registered several.")
    if not redirect_uri_matches(asked, client.redirect_uris):
        raise InvalidRequest("redirect_uri is not one the client registered (it must match exactly).")
    return asked, True


def _prompt(value: str | None) -> str | None:
    """The known prompt values, once each; unknown ones are ignored (OpenID Connect Core 3.1.2.1)."""
    if value is None:
        return None
    words = [w for w in value.split(" ") if w in PROMPT_VALUES]
    if "none" in words:
        if len(set(words)) > 1:
            raise InvalidRequest("prompt=none cannot be combined with other prompt values.")
        raise InteractionRequired("This server always asks the user to approve; prompt=none is not supported.")
    return " ".join(dict.fromkeys(words)) or None


async def start(session: AsyncSession, settings: Settings, params: Params) -> str:
    """Validate an authorization request and store it; returns the new request id.

    Raises an ``OAuthError`` to show to the user (bad client or redirect URI), or
    ``RedirectToClient`` once the redirect URI is verified.
    """
    client = await find_client(session, settings, params.get("client_id"))
    redirect_uri, provided = _redirect_uri(client, params.get("redirect_uri"))
    states = params.all("state")
    state = states[0] if len(states) == 1 else None
    try:
        if len(states) > 1:
            raise InvalidRequest("The state parameter must not be repeated.")
        if state is not None and len(state) > MAX_STATE_LENGTH:
            raise InvalidRequest("state is too long.")
        response_type = params.get("response_type")
        if response_type is None:
            raise InvalidRequest("response_type is required.")
        if response_type != "code":
            raise UnsupportedResponseType("Only response_type=code is supported.")
        if "code" not in client.response_types or CODE_GRANT not in client.grant_types:
            raise UnauthorizedClient("This client is not registered for the authorization code grant.")
        challenge = check_challenge(params.get("code_challenge"), params.get("code_challenge_method"))
        scopes = requested_scopes(params.get("scope"), registered=client.scope)
        resource = resolve_resource(settings, params.all("resource"))
        prompt = _prompt(params.get("prompt"))
    except OAuthError as exc:
        raise RedirectToClient(exc, error_response(settings, redirect_uri, exc, state)) from exc

    request_id = new_secret(REQUEST_ID_PREFIX)
    now = utcnow()
    await authorization_codes.add_request(
        session,
        request_hash=hash_secret(request_id),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        redirect_uri_provided=provided,
        scopes=format_scope(scopes),
        state=state,
        code_challenge=challenge,
        resource=resource,
        prompt=prompt,
        created=now,
        expires=now + settings.authorization_request_ttl,
    )
    await oauth_clients.touch_client(session, client.client_id)
    return request_id


async def _find(session: AsyncSession, request_id: str) -> OAuthAuthorizationRequest:
    if not request_id or len(request_id) > 200:
        raise InvalidRequest("Unknown or expired authorization request.")
    row = await authorization_codes.find_request(session, hash_secret(request_id))
    if row is None or row.expires <= utcnow():
        raise InvalidRequest("Unknown or expired authorization request; start again from the app.")
    return row


async def _client_row(session: AsyncSession, client_id: str) -> OAuthClient:
    row = await oauth_clients.get_client(session, client_id)
    if row is None:
        raise InvalidRequest("The app that asked is no longer registered; start again from the app.")
    return row


async def _take(session: AsyncSession, row: OAuthAuthorizationRequest) -> None:
    """Delete the request, once: a second answer (double submit, another tab) is refused."""
    if not await authorization_codes.take_request(session, row):
        raise InvalidRequest("This authorization request was already answered.")


async def load_pending(session: AsyncSession, settings: Settings, request_id: str) -> PendingAuthorization:
    """The pending request behind ``request_id``; ``invalid_request`` when unknown or expired."""
    row = await _find(session, request_id)
    client = client_info(await _client_row(session, row.client_id))
    return PendingAuthorization(
        request_id=request_id,
        client_id=row.client_id,
        client_name=client.name,
        client_source=client.source,
        client_uri=client.client_uri,
        redirect_uri=row.redirect_uri,
        redirect_host=redirect_host(row.redirect_uri),
        redirect_host_warning=host_warning(row.redirect_uri),
        scopes=split_scope(row.scopes),
        resource=row.resource,
        state=row.state,
        prompt=row.prompt,
        created=row.created,
        expires=row.expires,
    )


async def approve(
    session: AsyncSession,
    settings: Settings,
    request_id: str,
    user_id: str,
    *,
    authenticated_at: datetime | None = None,
    granted: Collection[str] | None = None,
    sees: Sees | None = None,
) -> str:
    """The user allowed the request: issue a single-use code (RFC 6749 section 4.1.2), record the
    consent, delete the request; returns the redirect URL (``code``, ``state``, ``iss``).

    ``granted`` are the scopes the person kept of those asked (None: all of them); the code, and
    so the token, carries only those, and brings no refresh token when they withheld
    ``offline_access``. ``sees`` is what the app may see (None: as chosen last time, everything
    for a new app). ``ValidationFailed`` (the request kept) when the app asked for
    scopes and the person kept none, or for a profile choice the consent refuses.

    ``authenticated_at`` is when the user last entered their password (the web session's start,
    the API login token's issue); None only when the caller checked the password in this very
    call. ``LoginRequired`` (the request kept) when ``prompt=login`` asked for a login since.
    """
    row = await _find(session, request_id)
    if authenticated_at is not None and needs_login(row.prompt, row.created, authenticated_at):
        raise LoginRequired("The app asked that you sign in again before allowing it.")
    client = client_info(await _client_row(session, row.client_id))
    asked = split_scope(row.scopes)
    scopes = asked if granted is None else [s for s in asked if s in set(granted)]
    if asked and not scopes:
        raise ValidationFailed("Tick at least one permission, or press Deny.", field="scope")
    await record_consent(session, user_id, row.client_id, scopes, asked=asked, sees=sees, app_name=client.name)
    await _take(session, row)
    code = new_secret(CODE_PREFIX)
    now = utcnow()
    await authorization_codes.add_code(
        session,
        code_hash=hash_secret(code),
        grant_id=new_id(),
        client_id=row.client_id,
        user_id=user_id,
        redirect_uri=row.redirect_uri,
        redirect_uri_provided=row.redirect_uri_provided,
        code_challenge=row.code_challenge,
        code_challenge_method="S256",
        scopes=format_scope(scopes),
        resource=row.resource,
        refreshable=OFFLINE not in asked or OFFLINE in scopes,
        created=now,
        expires=now + settings.authorization_code_ttl,
    )
    await oauth_clients.touch_client(session, row.client_id)
    await session.flush()
    return authorization_response(settings, row.redirect_uri, code=code, state=row.state)


async def deny(session: AsyncSession, settings: Settings, request_id: str) -> str:
    """The user refused: delete the request; returns the redirect URL with ``access_denied``."""
    row = await _find(session, request_id)
    await _take(session, row)
    return authorization_response(
        settings,
        row.redirect_uri,
        error="access_denied",
        error_description="The user denied the request.",
        state=row.state,
    )
