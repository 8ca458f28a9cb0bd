"""Looking up a client by ``client_id``: a registration (RFC 7591) or a Client ID Metadata Document.

A ``client_id`` that is an https URL is a metadata document (fetched and cached by ``cimd.py``
before the request's transaction); anything else must be a registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import oauth_clients
from axiom_mcp.data.oauth_clients import touch_client as touch_client
from axiom_mcp.db.tables import OAuthClient
from axiom_mcp.oauth import cimd
from axiom_mcp.oauth.client_metadata import REFRESH_GRANT
from axiom_mcp.oauth.errors import InvalidClient
from axiom_mcp.oauth.redirects import ascii_host
from axiom_mcp.oauth.scopes import split_scope
from axiom_mcp.settings import Settings

MAX_CLIENT_ID_LENGTH = 2000


def display_name(row: OAuthClient) -> str:
    """What the consent and connected-apps pages call the client: its name, else its host (ASCII form)."""
    if row.client_name.strip():
        return row.client_name.strip()
    if row.source == "cimd":
        return urlsplit(row.client_id).hostname or row.client_id[:100]
    uris = list(row.redirect_uris)
    host = urlsplit(uris[0]).hostname if uris else None
    shown = ascii_host(host) if host else None
    return f"An app at {shown}" if shown else "An unnamed app"


@dataclass(frozen=True)
class ClientInfo:
    """A client as the protocol code needs it."""

    client_id: str
    name: str
    source: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    auth_method: str
    scope: frozenset[str] | None
    """The registered scope, if the client named one: requests may not exceed it."""
    client_uri: str | None
    secret_hash: str | None
    secret_expires_at: datetime | None

    @property
    def is_confidential(self) -> bool:
        return self.secret_hash is not None

    @property
    def gets_refresh_tokens(self) -> bool:
        return REFRESH_GRANT in self.grant_types


def client_info(row: OAuthClient) -> ClientInfo:
    client_uri = row.client_metadata.get("client_uri") if isinstance(row.client_metadata, dict) else None
    return ClientInfo(
        client_id=row.client_id,
        name=display_name(row),
        source=row.source,
        redirect_uris=tuple(row.redirect_uris),
        grant_types=tuple(row.grant_types),
        response_types=tuple(row.response_types),
        auth_method=row.token_endpoint_auth_method,
        scope=frozenset(split_scope(row.scope)) if row.scope else None,
        client_uri=client_uri if isinstance(client_uri, str) else None,
        secret_hash=row.client_secret_hash,
        secret_expires_at=row.client_secret_expires_at,
    )


async def find_client(session: AsyncSession, settings: Settings, client_id: str | None) -> ClientInfo:
    """The client named ``client_id``, or ``InvalidClient`` (unknown, or its document is unusable).

    A metadata document client must have been brought up to date by ``cimd.MetadataDocuments.prefetch``."""
    if not client_id:
        raise InvalidClient("client_id is required.")
    if len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise InvalidClient("client_id is too long.")
    if cimd.is_metadata_document_url(client_id, settings):
        return client_info(await cimd.document_client(session, settings, client_id))
    row = await oauth_clients.get_client(session, client_id)
    if row is None:
        raise InvalidClient("Unknown client_id; register the client again.")
    return client_info(row)
