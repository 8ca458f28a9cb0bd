"""The account page, rendered the same way by every form on it (with that form's errors)."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from starlette.responses import Response

from axiom_mcp.data import files, tokens, web_sessions
from axiom_mcp.web.devices import device_name
from axiom_mcp.web.mailing import mail_folder_hint
from axiom_mcp.web.visits import Visit


TIMEZONES = sorted(available_timezones())


async def account_page(
    visit: Visit, *, status: int = 200, errors: dict[str, str] | None = None, **values: Any
) -> Response:
    current = visit.session.session_id if visit.session else None
    async with visit.ctx.db.session() as session:
        browsers = await web_sessions.list_browsers(session, visit.user_id, current)
        api_tokens = await tokens.list_api_tokens(session, visit.user_id)
        usage = await files.storage_usage(session, visit.ctx.settings, visit.user_id)
    return visit.render(
        "account.html", status=status, title="Your account", section="account", errors=errors or {},
        mail_folder=mail_folder_hint(visit), browsers=[(b, device_name(b.user_agent)) for b in browsers],
        api_tokens=api_tokens, timezones=TIMEZONES, usage=usage, **values,
    )
