"""Client authentication at the token, revocation and introspection endpoints (RFC 6749 2.3.1).

Public clients (``none``, every CIMD client) identify themselves with ``client_id`` alone;
confidential clients prove their secret with HTTP Basic or in the form body. We accept either
form for a confidential client whatever it registered (both carry the same secret), but never both
at once. Secrets are compared as hashes, in constant time.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.ids import utcnow
from axiom_mcp.oauth.clients import ClientInfo, find_client
from axiom_mcp.oauth.errors import InvalidClient, InvalidRequest
from axiom_mcp.oauth.params import Params
from axiom_mcp.security.secrets import hash_secret, same
from axiom_mcp.settings import Settings

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="axiom"'}


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str | None
    secret: str | None
    basic: bool
    """Whether they came in an ``Authorization: Basic`` header (a failure then answers with a
    ``WWW-Authenticate: Basic`` challenge, RFC 6749 section 5.2)."""


def credentials(authorization: str | None, params: Params) -> ClientCredentials:
    """The client's credentials from the Authorization header and the body."""
    body_id, body_secret = params.get("client_id"), params.get("client_secret")
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return ClientCredentials(body_id, body_secret, basic=False)
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClient("Malformed Basic credentials.", headers=BASIC_CHALLENGE) from exc
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("Malformed Basic credentials.", headers=BASIC_CHALLENGE)
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if body_secret is not None:
        raise InvalidRequest("Use one client authentication method, not Basic and client_secret together.")
    if body_id is not None and body_id != client_id:
        raise InvalidClient("client_id differs from the Basic credentials.", headers=BASIC_CHALLENGE)
    return ClientCredentials(client_id or None, secret or None, basic=True)


async def authenticate(session: AsyncSession, settings: Settings, creds: ClientCredentials) -> ClientInfo:
    """The authenticated client, or ``invalid_client`` (401)."""
    headers = BASIC_CHALLENGE if creds.basic else {}
    if not creds.client_id:
        raise InvalidClient("Client authentication is required (client_id).", headers=headers)
    try:
        client = await find_client(session, settings, creds.client_id)
    except InvalidClient as exc:
        raise InvalidClient(exc.description, headers=headers) from exc
    if client.secret_hash is None:
        if creds.secret is not None:
            raise InvalidClient("This client is public; it has no secret.", headers=headers)
        return client
    if creds.secret is None:
        raise InvalidClient("This client must authenticate with its client_secret.", headers=headers)
    if not same(hash_secret(creds.secret), client.secret_hash):
        raise InvalidClient("Client authentication failed.", headers=headers)
    if client.secret_expires_at is not None and client.secret_expires_at <= utcnow():
        raise InvalidClient("The client secret has expired; register again.", headers=headers)
    return client
