"""Authorization server metadata (RFC 8414), built from settings, never from the request.

The mcp SDK's ``build_metadata`` (``mcp.server.auth.routes``) is close but cannot advertise what
our clients look for: ``none`` among the token endpoint auth methods and
``client_id_metadata_document_supported`` (Claude uses CIMD only when both are present), the
RFC 9207 ``authorization_response_iss_parameter_supported`` flag and an introspection endpoint;
and it passes the issuer through pydantic URLs. So the document is a plain dict here; the tests
parse it with the SDK's ``OAuthMetadata`` model, as the SDK client does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from axiom_mcp.settings import SCOPES, Settings

WELL_KNOWN = "/.well-known/oauth-authorization-server"
AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]
SECRET_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def endpoint(settings: Settings, path: str) -> str:
    return f"{settings.public_url}{path}"


def authorization_server_metadata(settings: Settings) -> dict[str, Any]:
    """RFC 8414 section 2; ``issuer`` is exactly the configured public URL (no trailing slash)."""
    return {
        "issuer": settings.issuer,
        "authorization_endpoint": endpoint(settings, "/oauth/authorize"),
        "token_endpoint": endpoint(settings, "/oauth/token"),
        "registration_endpoint": endpoint(settings, "/oauth/register"),
        "revocation_endpoint": endpoint(settings, "/oauth/revoke"),
        "introspection_endpoint": endpoint(settings, "/oauth/introspect"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": SECRET_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
    }


def metadata_paths(settings: Settings) -> list[str]:
    """Where the document is served: the root form, and the path-inserted form (RFC 8414 section
    3.1) when the issuer has a path (``https://host/auth`` -> ``/.well-known/oauth-authorization-server/auth``)."""
    paths = [WELL_KNOWN]
    issuer_path = urlsplit(settings.issuer).path.rstrip("/")
    if issuer_path:
        paths.append(f"{WELL_KNOWN}{issuer_path}")
    return paths
