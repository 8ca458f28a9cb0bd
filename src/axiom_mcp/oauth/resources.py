"""Resource indicators (RFC 8707): which audience a token is for.

No ``resource`` means the product's main resource, the MCP endpoint. Otherwise it must be one of
the resources this server issues tokens for, kept exactly as asked (clients compare it with the
URL they used): the MCP endpoint (``{mcp_url}/mcp``), the MCP service URL, or the REST API.
"""

from __future__ import annotations

from collections.abc import Sequence

from axiom_mcp.oauth.errors import InvalidTarget
from axiom_mcp.settings import Settings


def allowed_resources(settings: Settings) -> tuple[str, ...]:
    return (settings.mcp_resource, settings.mcp_url, settings.api_resource)


def resolve_resource(settings: Settings, values: Sequence[str]) -> str:
    """The audience for a request's ``resource`` parameters (RFC 8707 section 2)."""
    values = [v for v in values if v]
    if not values:
        return settings.mcp_resource
    if len(set(values)) > 1:
        raise InvalidTarget("Ask for one resource per request.")
    value = values[0]
    if value in allowed_resources(settings):
        return value
    raise InvalidTarget(f"Unknown resource {value[:200]!r}; this server issues tokens for {settings.mcp_resource}.")
