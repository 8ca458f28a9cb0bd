"""The auth service's app (port 8090): the OAuth endpoints and the REST API under one FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from axiom_mcp import __version__
from axiom_mcp.auth_service.rest_api.api_tokens import build_api_token_router
from axiom_mcp.auth_service.rest_api.errors import install_error_handlers
from axiom_mcp.auth_service.rest_api.limits import BodyLimit
from axiom_mcp.auth_service.oauth_endpoints import install_oauth_routes
from axiom_mcp.auth_service.rest_api.routes import build_api_router
from axiom_mcp.context import AppContext


def create_api_app(ctx: AppContext) -> FastAPI:
    app = FastAPI(
        title="Axiom API",
        version=__version__,
        description="Your items, clients and tags. Authenticate with `Authorization: Bearer <token>`.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    app.add_middleware(BodyLimit, prefix="/api/")
    app.include_router(build_api_router())
    app.include_router(build_api_token_router())
    install_oauth_routes(app, ctx)
    return app
