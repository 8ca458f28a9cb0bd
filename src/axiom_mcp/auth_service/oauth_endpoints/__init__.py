"""The OAuth endpoints over HTTP: a thin layer over ``axiom_mcp.oauth`` on the auth service.

One module per endpoint (none under /api/v1): ``metadata`` (RFC 8414,
``/.well-known/oauth-authorization-server[/issuer-path]``), ``register`` (``/oauth/register``,
RFC 7591), ``authorize`` (``/oauth/authorize`` GET and POST), ``token`` (``/oauth/token``),
``revoke`` (``/oauth/revoke``, RFC 7009), ``introspect`` (``/oauth/introspect``, RFC 7662) and
``validate`` (``/oauth/validate``, the original's). ``endpoint`` holds what they share: errors are
rendered there, once. CORS (no credentials) is allowed on metadata, registration, token and
revocation, which browser based MCP clients call; these use no cookies, so a cross-origin caller
gains nothing curl lacks.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from axiom_mcp.auth_service.oauth_endpoints import authorize, introspect, metadata, register, revoke, token, validate
from axiom_mcp.context import AppContext
from axiom_mcp.oauth.cimd import MetadataDocuments


def build_oauth_routes(ctx: AppContext) -> list[BaseRoute]:
    documents = MetadataDocuments(ctx.settings)  # this app's fetch limit, failure memory and resolver
    return [
        *metadata.routes(ctx),
        *register.routes(ctx),
        *validate.routes(ctx),
        *(route for endpoint in (authorize, token, revoke, introspect) for route in endpoint.routes(ctx, documents)),
    ]


def install_oauth_routes(app: Starlette, ctx: AppContext) -> None:
    """Add the OAuth endpoints to the auth service's app (outside /api/v1, with their own errors)."""
    app.router.routes.extend(build_oauth_routes(ctx))
