"""What each connected app did: recorded in batches, read per app, kept for ``activity_retention``.

An action is who (user, OAuth client), what (an MCP tool or a REST route), which record ids, and
whether it worked; never content or argument text. Recording must not slow the call it describes,
so ``ActivityLog`` keeps actions in memory and writes them in one statement per batch, at most
``delay`` seconds after the first. What a crash may lose: the actions of the last ``delay`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.schemas import Page, UtcTime
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import Activity, User
from axiom_mcp.ids import utcnow

log = logging.getLogger("axiom.activity")

Surface = Literal["mcp", "rest"]
MAX_RECORD_IDS = 20
"""A call naming more ids (a list page) keeps the first ones: enough to see what it touched."""


@dataclass(frozen=True)
class Action:
    user_id: str
    client_id: str
    surface: Surface
    action: str
    record_ids: tuple[str, ...] = ()
    ok: bool = True
    error: str | None = None
    at: datetime = field(default_factory=utcnow)

    def row(self) -> dict[str, Any]:
        """The table row (built by hand: ``dataclasses.asdict`` deep-copies, on every tool call)."""
        return {
            "id": os.urandom(8).hex()[:15],  # one random read, not new_id's fifteen: only a key
            "user_id": self.user_id, "client_id": self.client_id, "surface": self.surface,
            "action": self.action[:200], "record_ids": list(self.record_ids[:MAX_RECORD_IDS]),
            "ok": self.ok, "error": None if self.error is None else self.error[:64], "at": self.at,
        }


class ActionOut(BaseModel):
    at: UtcTime
    surface: str
    action: str
    record_ids: list[str]
    ok: bool
    error: str | None


@dataclass(frozen=True)
class DayCount:
    day: date
    calls: int
    errors: int


class ActivityLog:
    """Actions of this process, written to the database in batches."""

    def __init__(self, db: Database, *, delay: float = 1.0, max_pending: int = 10_000) -> None:
        self.db = db
        self.delay = delay
        self.max_pending = max_pending
        self._pending: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task[int] | None = None
        self.dropped = 0
        """Actions refused because ``max_pending`` were already waiting (the database is stuck)."""

    def record(self, action: Action) -> None:
        """Queue ``action``; a write follows within ``delay`` seconds. Never raises, never waits."""
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("activity not recorded: %d actions waiting already (%d dropped)",
                            len(self._pending), self.dropped)
            return
        self._pending.append(action.row())
        if self._timer is None and self._writing is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._write_soon)

    def _write_soon(self) -> None:
        self._timer = None
        self._writing = asyncio.get_running_loop().create_task(self._write_then_reschedule())

    async def _write_then_reschedule(self) -> int:
        try:
            return await self.flush()
        finally:
            self._writing = None
            if self._pending and self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(self.delay, self._write_soon)

    async def flush(self) -> int:
        """Write what is waiting now; returns how many actions were written."""
        rows, self._pending = self._pending, []
        if not rows:
            return 0
        try:
            return await self._insert(rows)
        except Exception:  # noqa: BLE001 - activity must never break the calls it records
            log.exception("activity lost: %d actions could not be written", len(rows))
            return 0

    async def _insert(self, rows: list[dict[str, Any]]) -> int:
        try:
            async with self.db.session() as session:
                await session.execute(insert(Activity), rows)
            return len(rows)
        except IntegrityError:
            # An account deleted since its action was queued: keep the others' actions.
            async with self.db.session() as session:
                owners = {row["user_id"] for row in rows}
                alive = set((await session.scalars(select(User.id).where(User.id.in_(owners)))).all())
                kept = [row for row in rows if row["user_id"] in alive]
                if kept:
                    await session.execute(insert(Activity), kept)
            return len(kept)

    async def close(self) -> None:
        """Write everything still waiting (on shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writing is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._writing
        await self.flush()


async def latest(session: AsyncSession, user_id: str, client_id: str, *, page: int, per_page: int) -> Page[ActionOut]:
    """One page of an app's actions for its person, newest first."""
    mine = (Activity.user_id == user_id, Activity.client_id == client_id)
    total = int(await session.scalar(select(func.count()).select_from(Activity).where(*mine)) or 0)
    rows = await session.scalars(
        select(Activity).where(*mine).order_by(Activity.at.desc(), Activity.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    )
    items = [
        ActionOut(at=r.at, surface=r.surface, action=r.action, record_ids=list(r.record_ids or []), ok=r.ok, error=r.error)
        for r in rows
    ]
    return Page[ActionOut].of(items, page=page, per_page=per_page, total=total)


def _utc_day(session: AsyncSession) -> Any:
    """``Activity.at``'s UTC calendar day as ``YYYY-MM-DD`` text, on either database."""
    if session.bind.dialect.name == "sqlite":
        return func.substr(Activity.at, 1, 10)  # stored as UTC text "YYYY-MM-DD HH:MM:SS..."
    return func.to_char(func.timezone("UTC", Activity.at), "YYYY-MM-DD")


async def calls_per_day(
    session: AsyncSession, user_id: str, client_id: str, *, days: int, today: date
) -> list[DayCount]:
    """Calls (and failed calls) per UTC day over the ``days`` days ending ``today``, oldest first,
    with a zero for each day without any."""
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=utcnow().tzinfo)
    day = _utc_day(session)
    rows = await session.execute(
        select(day, func.count(), func.count().filter(Activity.ok.is_(False)))
        .where(Activity.user_id == user_id, Activity.client_id == client_id, Activity.at >= since)
        .group_by(day)
    )
    counts = {str(label): (int(calls), int(errors)) for label, calls, errors in rows}
    return [
        DayCount(d, *counts.get(d.isoformat(), (0, 0))) for d in (first + timedelta(days=n) for n in range(days))
    ]


@dataclass(frozen=True)
class Summary:
    days: list[DayCount]
    latest: Page[ActionOut]


async def summary(
    session: AsyncSession, user_id: str, client_id: str, *, days: int, today: date, latest_count: int
) -> Summary:
    """What the Connected apps page shows of one app: calls per day and its latest actions."""
    return Summary(
        await calls_per_day(session, user_id, client_id, days=days, today=today),
        await latest(session, user_id, client_id, page=1, per_page=latest_count),
    )


async def remove_old(session: AsyncSession, before: datetime) -> int:
    """Delete actions older than ``before`` (cleanup: ``settings.activity_retention``)."""
    result = await session.execute(delete(Activity).where(Activity.at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
