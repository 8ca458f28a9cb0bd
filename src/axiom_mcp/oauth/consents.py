"""Consents: which user allowed which client which scopes (the "connected apps" page).

Approving an authorization records (or widens) the consent; revoking a connected app deletes it
and revokes every token that user gave that client. The caller then makes the token cache forget
them: ``ctx.tokens.forget(user_id=..., client_id=...)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import consents
from axiom_mcp.errors import NotFoundError
from axiom_mcp.oauth.clients import display_name
from axiom_mcp.oauth.grants import revoke_user_client
from axiom_mcp.oauth.redirects import redirect_host
from axiom_mcp.oauth.scopes import format_scope, ordered, split_scope


@dataclass
class ConnectedApp:
    client_id: str
    client_name: str
    source: str
    """``dcr``, ``cimd`` or ``first_party``."""
    redirect_host: str
    scopes: list[str]
    created: datetime
    last_used: datetime | None


async def record_consent(session: AsyncSession, user_id: str, client_id: str, scopes: Iterable[str]) -> None:
    """Create the consent, or widen it to include ``scopes`` (tokens granted earlier still exist)."""
    scopes = list(scopes)
    if await consents.add_consent(session, user_id, client_id, format_scope(scopes)):
        return
    current = await consents.consented_scopes(session, user_id, client_id)
    await consents.set_consented_scopes(session, user_id, client_id, format_scope([*split_scope(current), *scopes]))


async def list_connected_apps(session: AsyncSession, user_id: str) -> list[ConnectedApp]:
    """The user's connected apps, most recently approved first."""
    apps = []
    for consent, client in await consents.consents_with_clients(session, user_id):
        uris = list(client.redirect_uris) if client is not None else []
        apps.append(
            ConnectedApp(
                client_id=consent.client_id,
                client_name=display_name(client) if client is not None else consent.client_id[:100],
                source=client.source if client is not None else "dcr",
                redirect_host=redirect_host(uris[0]) if uris else "",
                scopes=ordered(split_scope(consent.scopes)),
                created=consent.created,
                last_used=consent.last_used,
            )
        )
    return apps


async def revoke_connected_app(session: AsyncSession, user_id: str, client_id: str) -> None:
    """Delete the consent and revoke every access and refresh token of that user and client.

    Raises ``NotFoundError`` when the user has no such connected app.
    """
    if not await consents.delete_consent(session, user_id, client_id):
        raise NotFoundError("No such connected app.")
    await revoke_user_client(session, user_id, client_id)
