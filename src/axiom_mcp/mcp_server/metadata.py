"""Discovery documents the MCP service publishes, never behind authentication.

- OAuth 2.0 Protected Resource Metadata (RFC 9728) at ``/.well-known/oauth-protected-resource/mcp``
  (the path form, RFC 9728 section 3.1, which clients try first) and at the root form
  ``/.well-known/oauth-protected-resource`` (their fallback). Both describe the one resource
  this service protects, ``settings.mcp_resource``, so whichever a client reads, ``resource``
  equals the URL it connected to; ``authorization_servers`` is the issuer, exactly as the
  authorization server spells it in its own metadata (no trailing slash).
- The original's mirror of the authorization server's metadata (RFC 8414) at
  ``/.well-known/oauth-authorization-server``, for clients that predate RFC 9728 and look for
  it on the MCP server's origin. The document comes from the OAuth package's builder
  (``axiom_mcp.oauth.metadata``), so the mirror and the original cannot drift.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse

from axiom_mcp.oauth.metadata import authorization_server_metadata
from axiom_mcp.settings import DEFAULT_SCOPES, SCOPES, Settings

PRM_PATH = "/.well-known/oauth-protected-resource"
AS_METADATA_PATH = "/.well-known/oauth-authorization-server"
_CACHE = {"Cache-Control": "public, max-age=300"}


def resource_metadata_url(settings: Settings) -> str:
    """Where the metadata of ``settings.mcp_resource`` lives (RFC 9728 section 3.1).

    The well-known segment goes between the host and the resource's path, so the resource
    ``https://mcp.example.com/mcp`` is described at
    ``https://mcp.example.com/.well-known/oauth-protected-resource/mcp``.
    """
    parts = urlsplit(settings.mcp_resource)
    path = parts.path if parts.path != "/" else ""
    return f"{parts.scheme}://{parts.netloc}{PRM_PATH}{path}"


def protected_resource_metadata(settings: Settings) -> dict[str, Any]:
    """The RFC 9728 section 2 document for the MCP endpoint."""
    return {
        "resource": settings.mcp_resource,
        "authorization_servers": [settings.issuer],
        "scopes_supported": list(SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": "Axiom MCP",
    }


def challenge_scope() -> str:
    """The ``scope`` a 401 challenge names: what using this server needs (RFC 6750 section 3).

    The read and write scopes, the same set the authorization server grants a request that
    names none; clients add ``offline_access`` themselves when they want refresh tokens.
    """
    return " ".join(DEFAULT_SCOPES)


def metadata_endpoints(settings: Settings) -> tuple[Any, Any]:
    """Request handlers for the two kinds of document; each is built once, here, not per request."""
    prm = protected_resource_metadata(settings)
    asm = authorization_server_metadata(settings)

    async def protected_resource(_request: Request) -> JSONResponse:
        return JSONResponse(prm, headers=_CACHE)

    async def authorization_server(_request: Request) -> JSONResponse:
        return JSONResponse(asm, headers=_CACHE)

    return protected_resource, authorization_server
