"""What every page handler needs, built once by ``create_web_app`` and kept on ``app.state.web``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from importlib import resources
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.requests import Request

from axiom_mcp import sizes
from axiom_mcp.context import AppContext

STYLESHEET = "style.css"


@dataclass
class WebConfig:
    ctx: AppContext
    secret: str
    """Signs the anonymous CSRF tokens (settings.resolved_secret())."""
    secure: bool
    """web_url is https: cookies get Secure and the __Host- prefix, responses HSTS."""
    origin: str
    """scheme://host[:port] of web_url: what a same-site post's Origin header says."""
    templates: Environment
    stylesheet_version: str

    @property
    def session_cookie(self) -> str:
        # __Host- cookies must be Secure, host-only and path=/ (RFC 6265bis section 4.1.3.2).
        return "__Host-axiom_session" if self.secure else "axiom_session"

    @property
    def csrf_cookie(self) -> str:
        return "__Host-axiom_csrf" if self.secure else "axiom_csrf"

    @property
    def device_cookie(self) -> str:
        return "__Host-axiom_device" if self.secure else "axiom_device"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def build_templates() -> Environment:
    env = Environment(
        loader=PackageLoader("axiom_mcp.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["size"] = sizes.in_words
    return env


def _zone(context: Context) -> tzinfo:
    """The signed-in person's time zone, UTC until it is known."""
    user = context.get("user")
    name = getattr(user, "timezone", "") if user else ""
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


@pass_context
def when(context: Context, value: datetime) -> str:
    """A timestamp as the person reads it, in their time zone: 27 Nov 2026, 05:08 CET."""
    value = value.astimezone(_zone(context))
    return f"{value.day} {value:%b %Y, %H:%M} {value.tzname()}"


@pass_context
def day(context: Context, value: datetime) -> str:
    value = value.astimezone(_zone(context))
    return f"{value.day} {value:%B %Y}"


def stylesheet_version() -> str:
    """A short hash of the stylesheet, added to its URL so browsers fetch a changed one at once."""
    data = resources.files("axiom_mcp.web").joinpath("static", STYLESHEET).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def build_config(ctx: AppContext) -> WebConfig:
    settings = ctx.settings
    return WebConfig(
        ctx=ctx,
        secret=settings.resolved_secret(),
        secure=settings.web_url.lower().startswith("https://"),
        origin=origin_of(settings.web_url),
        templates=build_templates(),
        stylesheet_version=stylesheet_version(),
    )


def web_config(request: Request) -> WebConfig:
    config = request.app.state.web
    assert isinstance(config, WebConfig)
    return config
