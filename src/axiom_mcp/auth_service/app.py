"""The auth service's app (port 8090): the OAuth endpoints and the REST API under one FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from axiom_mcp import __version__
from axiom_mcp.auth_service.api_docs import install_api_docs
from axiom_mcp.auth_service.rest_api.api_tokens import build_api_token_router
from axiom_mcp.auth_service.rest_api.errors import install_error_handlers
from axiom_mcp.auth_service.rest_api.files import build_files_router, is_file_upload
from axiom_mcp.auth_service.rest_api.activity import RecordActivity
from axiom_mcp.auth_service.rest_api.limits import BodyLimit
from axiom_mcp.auth_service.oauth_endpoints import install_oauth_routes
from axiom_mcp.auth_service.rest_api.routes import build_api_router
from axiom_mcp.context import AppContext
from axiom_mcp.service_root import root_endpoint


def create_api_app(ctx: AppContext) -> FastAPI:
    app = FastAPI(
        title="Axiom API",
        version=__version__,
        description="Your items (and their files), clients and tags. Authenticate with `Authorization: Bearer <token>`.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if ctx.settings.serves_api_docs else None,
    )
    app.state.ctx = ctx
    if ctx.settings.serves_api_docs:
        install_api_docs(app)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, prefix="/api/", streamed=is_file_upload)
    app.add_middleware(RecordActivity, activity=ctx.activity)
    app.include_router(build_api_router())
    app.include_router(build_files_router())
    app.include_router(build_api_token_router())
    install_oauth_routes(app, ctx)
    app.add_route("/", root_endpoint(ctx.settings, "auth"), methods=["GET"], include_in_schema=False)
    return app
