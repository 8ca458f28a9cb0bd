"""Access tokens at rest: issued as random strings, stored as SHA-256 hashes, looked up by hash.

The OAuth token endpoint, the API's login and every resource server (REST, MCP) share this; the
API's own tokens (``FIRST_PARTY_CLIENT_ID``) are listed and revoked by their holder here too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.db.tables import OAuthAccessToken, OAuthConsent
from axiom_mcp.errors import NotFoundError
from axiom_mcp.ids import new_id, utcnow
from axiom_mcp.security.secrets import hash_secret, new_secret
from axiom_mcp.settings import DEFAULT_SCOPES, Settings

ACCESS_TOKEN_PREFIX = "axat_"
MAX_CREDENTIAL_LENGTH = 512
"""Longer presented tokens, codes and secrets are refused unhashed: none this server issues is."""
FIRST_PARTY_CLIENT_ID = "axiom-api"
"""The client id of tokens the API's own login issues (not an OAuth client)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a verified access token grants."""

    token_id: str
    user_id: str
    client_id: str
    scopes: frozenset[str]
    resource: str | None
    expires: datetime
    grant_id: str


def _info(row: OAuthAccessToken) -> TokenInfo:
    return TokenInfo(
        token_id=row.id,
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=frozenset(row.scopes.split()),
        resource=row.resource,
        expires=row.expires,
        grant_id=row.grant_id,
    )


async def issue_access_token(
    session: AsyncSession,
    *,
    user_id: str,
    client_id: str,
    scopes: list[str] | tuple[str, ...],
    resource: str | None,
    ttl: timedelta,
    grant_id: str | None = None,
    name: str = "",
) -> tuple[str, TokenInfo]:
    """A new access token (the raw value, returned once) and what it grants; ``name`` labels an API token."""
    raw = new_secret(ACCESS_TOKEN_PREFIX)
    row = OAuthAccessToken(
        token_hash=hash_secret(raw),
        grant_id=grant_id or new_id(),
        client_id=client_id,
        user_id=user_id,
        scopes=" ".join(scopes),
        resource=resource,
        expires=utcnow() + ttl,
        name=name[:100],
    )
    session.add(row)
    await session.flush()
    return raw, _info(row)


def _by_hash(raw: str) -> ColumnElement[bool]:
    """Looked up by the hash's unique index: equality on a hash of a 256-bit secret leaks nothing
    useful through timing, and the raw token never reaches SQL."""
    return OAuthAccessToken.token_hash == hash_secret(raw)


def _consent_of_token() -> ColumnElement[bool]:
    return (OAuthConsent.user_id == OAuthAccessToken.user_id) & (OAuthConsent.client_id == OAuthAccessToken.client_id)


def _allowed(issued: str, consented: str | None) -> frozenset[str]:
    """A token's scopes now: those it was issued with that its consent still allows. The person may
    take scopes away from a connected app later; its live tokens lose them at once. A token
    without a consent (the API's own) keeps its scopes."""
    scopes = frozenset(issued.split())
    return scopes if consented is None else scopes & frozenset(consented.split())


async def find_access_row(session: AsyncSession, raw: str) -> tuple[OAuthAccessToken, frozenset[str]] | None:
    """The access token with this value whatever its state, and its scopes now (``_allowed``)."""
    if not raw or len(raw) > MAX_CREDENTIAL_LENGTH:
        return None
    found = (await session.execute(
        select(OAuthAccessToken, OAuthConsent.scopes).outerjoin(OAuthConsent, _consent_of_token()).where(_by_hash(raw))
    )).one_or_none()
    if found is None:
        return None
    row, consented = found
    return row, _allowed(row.scopes, consented)


async def find_access_token(session: AsyncSession, raw: str) -> TokenInfo | None:
    """The live (unrevoked, unexpired) token with this value, with its scopes now, or None."""
    found = await find_access_row(session, raw)
    if found is None or found[0].revoked or found[0].expires <= utcnow():
        return None
    return replace(_info(found[0]), scopes=found[1])


async def revoke_access_token(session: AsyncSession, raw: str, client_id: str | None = None) -> bool:
    """Revoke the token with this value (only if it was issued to ``client_id``, when given);
    True when it was."""
    if not raw or len(raw) > MAX_CREDENTIAL_LENGTH:
        return False
    issued_to = () if client_id is None else (OAuthAccessToken.client_id == client_id,)
    result = await session.execute(
        update(OAuthAccessToken)
        .where(_by_hash(raw), *issued_to)
        .values(revoked=True)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


class ApiToken(BaseModel):
    """One live API token of a user, as its holder may see it (never the secret)."""

    id: str
    name: str = Field(description="The label given when it was made on the account page; empty for a login's.")
    created: datetime
    expires: datetime
    scope: str
    current: bool = Field(description="Whether this is the token of the request that lists them.")


def _live_api_tokens(user_id: str) -> tuple[ColumnElement[bool], ...]:
    return (
        OAuthAccessToken.user_id == user_id,
        OAuthAccessToken.client_id == FIRST_PARTY_CLIENT_ID,
        OAuthAccessToken.revoked.is_(False),
        OAuthAccessToken.expires > utcnow(),
    )


async def list_api_tokens(session: AsyncSession, user_id: str, current_id: str | None = None) -> list[ApiToken]:
    """The user's live API tokens, newest first."""
    rows = await session.scalars(
        select(OAuthAccessToken)
        .where(*_live_api_tokens(user_id))
        .order_by(OAuthAccessToken.created.desc(), OAuthAccessToken.id)
    )
    return [
        ApiToken(id=row.id, name=row.name, created=row.created, expires=row.expires, scope=row.scopes,
                 current=row.id == current_id)
        for row in rows
    ]


async def revoke_api_token(session: AsyncSession, user_id: str, token_id: str) -> str:
    """Revoke one live API token of the user, and say its name; NotFoundError when there is none with that id."""
    name = await session.scalar(
        update(OAuthAccessToken).where(OAuthAccessToken.id == token_id, *_live_api_tokens(user_id))
        .values(revoked=True).returning(OAuthAccessToken.name)
    )
    if name is None:
        raise NotFoundError("No such API token.")
    return str(name)


async def issue_api_token(session: AsyncSession, settings: Settings, user_id: str, name: str = "") -> tuple[str, TokenInfo]:
    """A token for the REST API with every scope but offline_access, for ``access_token_ttl``: what
    ``POST /api/v1/auth/login`` returns, and what the account page makes under a name."""
    return await issue_access_token(
        session, user_id=user_id, client_id=FIRST_PARTY_CLIENT_ID, scopes=DEFAULT_SCOPES,
        resource=settings.api_resource, ttl=settings.access_token_ttl, name=name,
    )


async def revoke_api_tokens(session: AsyncSession, user_id: str) -> None:
    """Revoke every API token of the user (their password changed)."""
    await session.execute(update(OAuthAccessToken).where(*_live_api_tokens(user_id)).values(revoked=True))


async def token_issued_at(session: AsyncSession, token_id: str) -> datetime | None:
    """When the token with this id was issued (for an API token: its holder's login), if it exists."""
    return await session.scalar(select(OAuthAccessToken.created).where(OAuthAccessToken.id == token_id))
