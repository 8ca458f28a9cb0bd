"""Token revocation (RFC 7009).

The client authenticates as at the token endpoint. Revoking a refresh token revokes its whole
grant, access tokens included (RFC 7009 section 2.1 "SHOULD"); revoking an access token revokes
that token. A token that is unknown, already dead or another client's gets the same 200 as a
success (section 2.2), so the endpoint tells nobody whether a token exists. The API's own tokens
(from ``POST /api/v1/auth/login``) are revoked here by their holder with ``client_id=axiom-api``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.oauth_tokens import find_refresh_token
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID, revoke_access_token
from axiom_mcp.oauth.clients import ClientInfo
from axiom_mcp.oauth.errors import InvalidRequest, Revoked
from axiom_mcp.oauth.grants import revoke_grant
from axiom_mcp.oauth.params import Params


async def _revoke_access(session: AsyncSession, client: ClientInfo, raw: str) -> list[Revoked]:
    return [Revoked(token=raw)] if await revoke_access_token(session, raw, client.client_id) else []


async def _revoke_refresh(session: AsyncSession, client: ClientInfo, raw: str) -> list[Revoked]:
    row = await find_refresh_token(session, raw)
    if row is None or row.client_id != client.client_id:
        return []
    return [await revoke_grant(session, row.grant_id)]


async def revoke(session: AsyncSession, client: ClientInfo, params: Params) -> list[Revoked]:
    """RFC 7009 section 2.1; ``token_type_hint`` only orders the lookups (an unknown hint is ignored)."""
    raw = params.get("token")
    if raw is None:
        raise InvalidRequest("token is required.")
    order = [_revoke_access, _revoke_refresh]
    if params.get("token_type_hint") == "refresh_token":
        order.reverse()
    for attempt in order:
        revoked = await attempt(session, client, raw)
        if revoked:
            return revoked
    return []


async def revoke_api_token(session: AsyncSession, params: Params) -> list[Revoked]:
    """RFC 7009 section 2.1 for the API's own tokens (``client_id=FIRST_PARTY_CLIENT_ID``): a public
    client, so holding the token is what entitles one to revoke it."""
    raw = params.get("token")
    if raw is None:
        raise InvalidRequest("token is required.")
    return [Revoked(token=raw)] if await revoke_access_token(session, raw, FIRST_PARTY_CLIENT_ID) else []
