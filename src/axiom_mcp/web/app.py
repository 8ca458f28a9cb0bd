"""The web app (port 3000): login, sign-up, consent, connected apps and a dashboard over the data.

Server-rendered with Jinja2 and one stylesheet; no script, so it works without JavaScript.
"""

from __future__ import annotations

from importlib import resources

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from axiom_mcp.context import AppContext
from axiom_mcp.web.config import build_config
from axiom_mcp.web.errors import EXCEPTION_HANDLERS
from axiom_mcp.web.pages import (
    apps,
    auth,
    consent,
    email,
    home,
    item_files,
    password_reset,
    profile,
    records,
    seen_by,
    signins,
    your_data,
)
from axiom_mcp.web.security import SecurityHeaders


async def robots(_request: Request) -> PlainTextResponse:
    # Login and consent pages have no business in search results.
    return PlainTextResponse("User-agent: *\nDisallow: /\n")


def create_web_app(ctx: AppContext) -> Starlette:
    config = build_config(ctx)
    static = StaticFiles(directory=str(resources.files("axiom_mcp.web").joinpath("static")))
    routes = [
        *home.routes,
        *auth.routes,
        *password_reset.routes,
        *email.routes,
        *consent.routes,
        *apps.routes,
        *item_files.routes,
        *seen_by.routes,
        *records.routes(),
        *profile.routes,
        *signins.routes,
        *your_data.routes,
        Route("/robots.txt", robots, methods=["GET"]),
        Mount("/static", static, name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders, https=config.secure)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    )
    app.state.ctx = ctx
    app.state.web = config
    return app
