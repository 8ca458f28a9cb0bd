"""The values every template is rendered with (the layout's header, stylesheet, notice, CSRF field)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from axiom_mcp.data.schemas import ProfileOut
from axiom_mcp.web import csrf
from axiom_mcp.web.config import STYLESHEET, WebConfig


def mount_base(request: Request) -> str:
    """Where the web app is mounted (empty on its own port)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def page_context(
    request: Request, config: WebConfig, *, user: ProfileOut | None = None, csrf_token: str | None = None,
    notice: str | None = None, title: str = "Axiom",
) -> dict[str, Any]:
    """The layout's values; without a ``csrf_token`` the page carries no CSRF field (an error page)."""
    base = mount_base(request)
    return {
        "base": base,
        "user": user,
        "csrf_field": csrf.FIELD if csrf_token else "",
        "csrf_token": csrf_token or "",
        "stylesheet": f"{base}/static/{STYLESHEET}?v={config.stylesheet_version}",
        "notice": notice,
        "undo": None,  # a deleted record the notice offers to bring back (data/undo.py)
        "path": request.url.path,
        "section": "",
        "focused": False,
        "title": title,
    }
