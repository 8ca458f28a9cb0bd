"""The account page, rendered the same way by every form on it (with that form's errors)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from axiom_mcp.web.mailing import mail_folder_hint
from axiom_mcp.web.visits import Visit


def account_page(visit: Visit, *, status: int = 200, errors: dict[str, str] | None = None, **values: Any) -> Response:
    return visit.render("account.html", status=status, title="Your account", section="account",
                        errors=errors or {}, mail_folder=mail_folder_hint(visit), **values)
