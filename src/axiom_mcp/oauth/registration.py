"""Dynamic Client Registration (RFC 7591): public and confidential clients.

Why not the mcp SDK's ``RegistrationHandler``: it parses redirect URIs as pydantic ``AnyUrl``
(which can rewrite them, and exact string matching is our rule), accepts any URI scheme, has no
size or rate limits and is bound to Starlette. The rules here:

- ``redirect_uris``: 1 to 10, https or loopback http (``redirects.check_redirect_uri``), else
  ``invalid_redirect_uri``.
- ``token_endpoint_auth_method``: ``none`` (public), ``client_secret_basic`` (the RFC 7591
  default) or ``client_secret_post``; a secret is minted for the latter two, stored as a hash.
- ``grant_types``: ``authorization_code`` and optionally ``refresh_token``. When omitted we register
  both (RFC 7591 section 2 lets the server substitute values; the response says what was
  registered): Claude and ChatGPT expect refresh tokens.
- ``scope``: reduced to the scopes this server knows; requests may later not exceed it.
- Descriptive fields: short strings, http(s) URIs only. Anything else is ``invalid_client_metadata``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.oauth_clients import add_registered_client
from axiom_mcp.ids import utcnow
from axiom_mcp.oauth.client_metadata import CODE_GRANT, REFRESH_GRANT, URI_METADATA, extra_metadata
from axiom_mcp.oauth.errors import InvalidClientMetadata
from axiom_mcp.oauth.redirects import check_redirect_uris
from axiom_mcp.oauth.scopes import MAX_SCOPE_LENGTH, known_scopes
from axiom_mcp.security.secrets import hash_secret, new_secret

MAX_REGISTRATION_BYTES = 16 * 1024
CLIENT_ID_PREFIX = "axc_"
CLIENT_SECRET_PREFIX = "axcs_"
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
SUPPORTED_GRANTS = (CODE_GRANT, REFRESH_GRANT)


def _metadata(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_REGISTRATION_BYTES:
        raise InvalidClientMetadata(f"Client metadata larger than {MAX_REGISTRATION_BYTES} bytes.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidClientMetadata("The body must be a JSON object of client metadata.") from exc
    if not isinstance(data, dict):
        raise InvalidClientMetadata("The body must be a JSON object of client metadata.")
    return data


def _string_list(data: dict[str, Any], name: str, default: list[str]) -> list[str]:
    value = data.get(name)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(value) > 10:
        raise InvalidClientMetadata(f"{name} must be a short list of strings.")
    return list(dict.fromkeys(value))


def validate(data: dict[str, Any]) -> dict[str, Any]:
    """The ``_oauth_clients`` columns for a registration request, or a RFC 7591 error."""
    redirect_uris = check_redirect_uris(data.get("redirect_uris"))
    method = data.get("token_endpoint_auth_method") or "client_secret_basic"
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}.")
    grants = _string_list(data, "grant_types", list(SUPPORTED_GRANTS))
    unsupported = [g for g in grants if g not in SUPPORTED_GRANTS]
    if unsupported or CODE_GRANT not in grants:
        raise InvalidClientMetadata("grant_types must be authorization_code, optionally with refresh_token.")
    responses = _string_list(data, "response_types", ["code"])
    if responses != ["code"]:
        raise InvalidClientMetadata("response_types must be [\"code\"].")
    name = data.get("client_name", "")
    if not isinstance(name, str) or len(name) > 255:
        raise InvalidClientMetadata("client_name must be a string of at most 255 characters.")
    scope = data.get("scope")
    if scope is not None and (not isinstance(scope, str) or len(scope) > MAX_SCOPE_LENGTH):
        raise InvalidClientMetadata("scope must be a space-separated string.")
    kept = extra_metadata(data)
    for key in URI_METADATA:
        if data.get(key) not in (None, "") and key not in kept:
            raise InvalidClientMetadata(f"{key} must be an http(s) URL of at most 2000 characters.")
    return {
        "client_name": name.strip(),
        "redirect_uris": redirect_uris,
        "grant_types": [g for g in SUPPORTED_GRANTS if g in grants],
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
        "scope": known_scopes(scope),
        "client_metadata": kept,
    }


async def register(session: AsyncSession, body: bytes, *, address: str | None) -> dict[str, Any]:
    """Register a client (RFC 7591 section 3.1); returns the client information response (3.2.1)."""
    values = validate(_metadata(body))
    client_id = new_secret(CLIENT_ID_PREFIX)
    secret = new_secret(CLIENT_SECRET_PREFIX) if values["token_endpoint_auth_method"] != "none" else None
    now = utcnow()
    await add_registered_client(
        session,
        client_id=client_id,
        client_secret_hash=hash_secret(secret) if secret else None,
        registered_from=(address or "")[:64] or None,
        created=now,
        **values,
    )
    response: dict[str, Any] = {
        "client_id": client_id,
        "client_id_issued_at": int(now.timestamp()),
        "redirect_uris": values["redirect_uris"],
        "grant_types": values["grant_types"],
        "response_types": values["response_types"],
        "token_endpoint_auth_method": values["token_endpoint_auth_method"],
        **values["client_metadata"],
    }
    if values["client_name"]:
        response["client_name"] = values["client_name"]
    if values["scope"]:
        response["scope"] = values["scope"]
    if secret:
        response["client_secret"] = secret
        response["client_secret_expires_at"] = 0  # RFC 7591 3.2.1: 0 means it does not expire
    return response
