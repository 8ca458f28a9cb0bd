"""Reading a bearer token from an ``Authorization`` header (RFC 6750 section 2.1): the one parser
of the REST API, the OAuth endpoints and the MCP server."""

from __future__ import annotations


def bearer_token(authorization: str | None) -> str | None:
    """The token of ``Bearer <token>`` (the scheme in any case), or None when the header holds none."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def names_bearer(authorization: str | None) -> bool:
    """Whether the header uses the Bearer scheme at all (a token may still be missing)."""
    return (authorization or "").partition(" ")[0].lower() == "bearer"
