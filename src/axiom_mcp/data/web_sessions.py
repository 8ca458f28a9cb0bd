"""Signed-in browsers of the web app, in ``_web_sessions``.

The cookie carries a random 256-bit session id; the table holds only its SHA-256, so a leaked table
signs nobody in. Each session has its own CSRF secret, which never leaves the server (the pages
carry a token derived from it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data import users
from axiom_mcp.data.schemas import ProfileOut
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import WebSession
from axiom_mcp.errors import NotFoundError
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret, new_secret

SESSION_PREFIX = "axws_"
MAX_COOKIE_LENGTH = 200
SEEN_EVERY = timedelta(minutes=5)
"""``last_seen`` moves at most this often: a write every few minutes, not on every page."""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: str
    """The row's id (not the cookie value)."""
    user_id: str
    csrf_secret: str
    expires: datetime
    created: datetime
    """When the user signed in (a session is never renewed): what ``prompt=login`` is checked against."""


def _info(row: WebSession) -> SessionInfo:
    return SessionInfo(session_id=row.id, user_id=row.user_id, csrf_secret=row.csrf_secret, expires=row.expires,
                       created=row.created)


@dataclass(frozen=True, slots=True)
class Browser:
    """A signed-in browser as its person sees it on the account page."""

    session_id: str
    user_agent: str
    created: datetime
    last_seen: datetime
    current: bool


async def create_session(
    session: AsyncSession, user_id: str, ttl: timedelta, user_agent: str = ""
) -> tuple[str, SessionInfo]:
    """A new session for ``user_id``: the raw cookie value (returned once) and what it holds."""
    raw = new_secret(SESSION_PREFIX)
    now = utcnow()
    row = WebSession(
        session_hash=hash_secret(raw),
        user_id=user_id,
        csrf_secret=secrets.token_hex(32),
        created=now,
        expires=now + ttl,
        user_agent=user_agent[:300],
        last_seen=now,
    )
    session.add(row)
    await session.flush()
    return raw, _info(row)


async def find_session(session: AsyncSession, raw: str | None) -> SessionInfo | None:
    """The live session whose cookie value is ``raw``, or None (unknown, expired or malformed)."""
    if not raw or len(raw) > MAX_COOKIE_LENGTH or not raw.startswith(SESSION_PREFIX):
        return None
    row = await session.scalar(select(WebSession).where(WebSession.session_hash == hash_secret(raw)))
    if row is None or row.expires <= utcnow():
        return None
    return _info(row)


async def end_session(session: AsyncSession, raw: str | None) -> None:
    """Sign this browser out (nothing happens for an unknown cookie)."""
    if raw and len(raw) <= MAX_COOKIE_LENGTH:
        await session.execute(delete(WebSession).where(WebSession.session_hash == hash_secret(raw)))


async def end_other_sessions(session: AsyncSession, user_id: str, keep_session_id: str | None) -> int:
    """Sign the user out everywhere else (after a password change); returns how many ended."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_session_id is not None:
        query = query.where(WebSession.id != keep_session_id)
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def signed_in(db: Database, raw: str | None) -> tuple[SessionInfo, ProfileOut] | None:
    """The live session a browser's cookie names and its account's profile, or None (no such
    session, expired, or the account was removed since). Notes that the browser was seen."""
    if not raw:
        return None
    async with db.session() as session:
        info = await find_session(session, raw)
        if info is None:
            return None
        try:
            profile = await users.get_profile(session, info.user_id)
        except NotFoundError:
            return None
        now = utcnow()
        await session.execute(
            update(WebSession)
            .where(WebSession.id == info.session_id,
                   or_(WebSession.last_seen.is_(None), WebSession.last_seen <= now - SEEN_EVERY))
            .values(last_seen=now)
        )
        return info, profile


async def list_browsers(session: AsyncSession, user_id: str, current_session_id: str | None) -> list[Browser]:
    """The person's live sessions, most recently seen first."""
    rows = await session.scalars(
        select(WebSession).where(WebSession.user_id == user_id, WebSession.expires > utcnow())
    )
    browsers = [
        Browser(row.id, row.user_agent, row.created, row.last_seen or row.created, row.id == current_session_id)
        for row in rows
    ]
    return sorted(browsers, key=lambda b: (not b.current, -b.last_seen.timestamp()))
