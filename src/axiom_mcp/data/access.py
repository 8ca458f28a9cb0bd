"""What one connection may see: everything its owner has, or only the items of a client profile.

A person's own tokens (the web app, the API's login tokens) see everything. An OAuth app's
connection (its consent) may be restricted to a client profile: the existing ``clients`` record,
whose access tags say which items the app sees (an item with at least one of them). The data
layer applies a ``View`` to every read and write a connection makes (issue 13).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TypeAlias

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.kinds import CLIENTS, Kind
from axiom_mcp.data.schemas import is_record_id
from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import Client, OAuthConsent, client_access_tags
from axiom_mcp.errors import NotFoundError, OutOfView

_MAX_VIEWS = 10_000


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


Who: TypeAlias = View | str
"""Whom a record function serves: a connection's view, or a user id (the person themself)."""


def everything(user_id: str) -> View:
    """The view of the person themself."""
    return View(user_id)


def as_view(who: Who) -> View:
    return who if isinstance(who, View) else everything(who)


def check(kind: Kind, view: View, *, writing: bool) -> None:
    """Refuse what a restricted view may never do with ``kind``, before anything is read."""
    if not view.restricted or kind.in_a_view == "tagged":
        return
    if kind.in_a_view == "hidden":
        raise OutOfView(f"This app's connection is limited to a client profile's items; it cannot see or change {kind.many}.")
    if writing:
        raise OutOfView(f"This app's connection is limited to a client profile's items; it can read the "
                        f"profile's {kind.many} but not create, change or delete {kind.many}.")


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
    return View(user_id, await _profile_tags(session, row.profile_id), row.profile_id)


async def _profile_tags(session: AsyncSession, profile_id: str) -> frozenset[str]:
    tags = await session.scalars(
        select(client_access_tags.c.tag_id).where(client_access_tags.c.client_id == profile_id)
    )
    return frozenset(tags)


async def profile_view(session: AsyncSession, who: Who, profile_id: str) -> View:
    """What the client profile ``profile_id`` of ``who``'s owner lets a connection see ("see as the app").

    A restricted connection may not look through another profile (it would learn what it cannot
    see); another user's profile, like one that never existed, is not found.
    """
    caller = as_view(who)
    check(CLIENTS, caller, writing=False)
    owned = is_record_id(profile_id) and (await session.execute(
        select(Client.id).where(Client.id == profile_id, Client.user_id == caller.user_id)
    )).one_or_none() is not None
    if not owned:
        raise NotFoundError(f"client {profile_id[:40]!r} not found")
    return View(caller.user_id, await _profile_tags(session, profile_id), profile_id)


class Views:
    """Each connection's view for a request, looked up at most once per ``cache_seconds`` per
    (user, app): a change on the Connected apps page reaches the app's next call within that
    bound, on every instance sharing the database (the token cache's bound, the same setting).
    Lookups are single-flight, as the token verifier's are: the calls that arrive while one runs
    wait for its answer instead of each taking a database connection."""

    def __init__(self, db: Database, cache_seconds: float) -> None:
        self._db = db
        self._ttl = cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, View]] = {}
        self._lookups: dict[tuple[str, str], asyncio.Task[View]] = {}
        self._changes = 0
        """Counts ``forget`` calls: a lookup begun before one keeps its answer to itself."""

    def forget(self, user_id: str, client_id: str) -> None:
        """The person just changed what this app sees: this process looks it up again on its next call."""
        self._changes += 1
        self._cache.pop((user_id, client_id), None)
        self._lookups.pop((user_id, client_id), None)

    async def of(self, user_id: str, client_id: str) -> View:
        """The view of ``client_id``'s connection; the API's own tokens see everything."""
        if client_id == FIRST_PARTY_CLIENT_ID:
            return everything(user_id)
        key = (user_id, client_id)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        lookup = self._lookups.get(key)
        if lookup is None:
            lookup = self._lookups[key] = asyncio.ensure_future(self._look_up(key))
            lookup.add_done_callback(lambda done: self._finished(key, done))
        # shield: a caller that goes away (client disconnect) does not cancel the others' answer
        return await asyncio.shield(lookup)

    def _finished(self, key: tuple[str, str], lookup: asyncio.Task[View]) -> None:
        if self._lookups.get(key) is lookup:
            del self._lookups[key]
        if not lookup.cancelled():
            lookup.exception()  # retrieved: every waiter got it, or none was left to

    async def _look_up(self, key: tuple[str, str]) -> View:
        started, changes = time.monotonic(), self._changes
        async with self._db.session() as session:
            view = await connection_view(session, *key)
        if self._ttl > 0 and changes == self._changes:
            if len(self._cache) >= _MAX_VIEWS:
                self._cache.clear()
            self._cache[key] = (started + self._ttl, view)
        return view
