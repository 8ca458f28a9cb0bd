"""Letters that carry a link back to the web app, made the same way whichever service sends them."""

from __future__ import annotations

from urllib.parse import urlencode

from axiom_mcp.data import one_time_links
from axiom_mcp.data.schemas import ProfileOut
from axiom_mcp.db.engine import Database
from axiom_mcp.mail.message import Letter, compose
from axiom_mcp.settings import Settings

VERIFY_PAGE = "/auth/verify"
"""The web app's page that confirms an address (web/pages/email.py serves it)."""


def web_link(settings: Settings, path: str, token: str) -> str:
    """The absolute URL of a web page carrying a mailed link's token (from settings, never a Host header)."""
    return f"{settings.web_url}{path}?{urlencode({'token': token})}"


async def verification_letter(db: Database, settings: Settings, user: ProfileOut) -> Letter:
    """A new confirmation link for the person's address, in the message that carries it."""
    async with db.session() as session:
        token = await one_time_links.create_link(session, user.id, "verify_email", user.email)
    return compose("verify_email", user.email, name=user.name, link=web_link(settings, VERIFY_PAGE, token))
