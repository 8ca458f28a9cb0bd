"""Mail sent from the pages: links back to this app, the per-address limit, delivery after the response.

Delivery runs after the response has gone (a Starlette background task): a slow or broken mail
server neither delays a page nor shows in its answer, so an answer cannot tell whether a message
was sent at all.
"""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.responses import Response

from axiom_mcp.data import rate_limits
from axiom_mcp.ids import utcnow
from axiom_mcp.mail.message import Letter
from axiom_mcp.mail.outbox import post, undelivered_folder
from axiom_mcp.web.visits import Visit


def link_to(visit: Visit, path: str, token: str) -> str:
    """The absolute URL of a page of this app carrying a mailed link's token (never from the Host header)."""
    return visit.ctx.settings.web_url + visit.url(path, token=token)


async def count_mail_request(visit: Visit) -> None:
    """Count a request that sends mail against its client address, or raise RateLimited.

    Counted like sign-ups (``signup_rate_limit`` per ``signup_rate_window``) but apart from them:
    both let an anonymous visitor make the server work and write to strangers.
    """
    address = visit.request.client.host if visit.request.client else None
    async with visit.ctx.db.session() as session:
        await rate_limits.mail_requests(visit.ctx.settings).begin(
            session, rate_limits.MAIL_KEY + rate_limits.address_key(address), utcnow())


def send_after(response: Response, visit: Visit, *letters: Letter) -> Response:
    """Deliver ``letters`` once ``response`` has been sent."""
    settings = visit.ctx.settings

    async def deliver() -> None:
        for letter in letters:
            await post(settings, letter)

    if letters:
        response.background = BackgroundTask(deliver)
    return response


def mail_folder_hint(visit: Visit) -> str | None:
    """Where the messages are when they cannot leave this server (development without SMTP), else None."""
    folder = undelivered_folder(visit.ctx.settings)
    return None if folder is None else f"{folder}/"
