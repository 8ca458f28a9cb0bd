"""What one connection may see: everything its owner has, or only the items of a client profile.

A person's own tokens (the web app, the API's login tokens) see everything. An OAuth app's
connection (its consent) may be restricted to a client profile: the existing ``clients`` record,
whose access tags say which items the app sees (an item with at least one of them). The data
layer applies a ``View`` to every read and write a connection makes (issue 13).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.db.tables import OAuthConsent, client_access_tags


@dataclass(frozen=True, slots=True)
class View:
    user_id: str
    access_tags: frozenset[str] | None = None
    """The tag ids whose items this connection sees; None: everything (not restricted)."""
    profile_id: str | None = None
    """The client profile that restricts it (None when unrestricted, or when its profile is gone)."""

    @property
    def restricted(self) -> bool:
        return self.access_tags is not None


def everything(user_id: str) -> View:
    """The view of the person themself."""
    return View(user_id)


async def connection_view(session: AsyncSession, user_id: str, client_id: str) -> View:
    """The view of the person's connection with ``client_id`` as it is now (its consent's profile).

    No consent (a token that outlived it is refused elsewhere) or an unrestricted one: everything.
    A restricted consent whose profile was deleted: nothing.
    """
    row = (await session.execute(
        select(OAuthConsent.restricted, OAuthConsent.profile_id)
        .where(OAuthConsent.user_id == user_id, OAuthConsent.client_id == client_id)
    )).one_or_none()
    if row is None or not row.restricted:
        return everything(user_id)
    if row.profile_id is None:
        return View(user_id, frozenset(), None)
    tags = await session.scalars(
        select(client_access_tags.c.tag_id).where(client_access_tags.c.client_id == row.profile_id)
    )
    return View(user_id, frozenset(tags), row.profile_id)
