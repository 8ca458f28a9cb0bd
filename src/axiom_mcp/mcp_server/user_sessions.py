"""How many MCP sessions one user may hold open: ``Settings.mcp_sessions_per_user``.

The SDK's session manager keeps at most 10,000 streamable-HTTP sessions for everyone together and
forgets an idle one after 30 minutes; legacy SSE streams have no limit at all. So one user could
take the whole table from everyone else. Here each user holds at most N sessions and legacy
streams together: opening one more first closes that user's longest-idle one, and when every one
is in use (a request of it in flight: a call being answered, an open GET stream) the new one is
refused with 429. The SDK's global limit stays.

A session counts as idle between its requests; a legacy stream between the messages posted to it
(its answers travel on the stream, which stays open). The table lives in this process, like the
sessions themselves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from mcp_types import INVALID_REQUEST
from starlette.types import Send

Close = Callable[[], Awaitable[None]]
Key = tuple[str, str]
"""``("session", id)`` or ``("stream", id)``: a client names the id, never the kind."""
Owner = tuple[str, str]
"""``(user id, client id)``: the SDK serves a session only to the credential that opened it."""


@dataclass(eq=False)
class Slot:
    """One open (or opening) session or legacy stream of a user."""

    owner: Owner
    key: Key | None = None
    """The session id, once its opening answer named it."""
    close: Close | None = None
    expires: bool = False
    """Whether the SDK forgets it after ``UserSessions.idle_lifetime`` without requests."""
    in_flight: int = 1
    """Requests being served; the opening one counts until it is answered."""
    last_used: float = field(default_factory=time.monotonic)

    @property
    def idle(self) -> bool:
        return self.in_flight == 0 and self.close is not None


class UserSessions:
    """The per-user table: who holds which sessions, which are idle, which to close for a new one."""

    def __init__(self, per_user: int, idle_lifetime: float | None) -> None:
        self.per_user = per_user
        self.idle_lifetime = idle_lifetime
        self._by_user: dict[str, list[Slot]] = {}
        self._by_key: dict[Key, Slot] = {}

    async def admit(self, owner: Owner) -> Slot | None:
        """A slot for a new session of ``owner``'s user, after closing the user's longest-idle one if
        they are at the limit; None if they are at the limit and every one is in use."""
        slots = self._by_user.get(owner[0], [])
        self._drop_expired(slots)
        victim = None
        if len(slots) >= self.per_user:
            idle = [slot for slot in slots if slot.idle]
            if not idle:
                return None
            victim = min(idle, key=lambda slot: slot.last_used)
            self.forget(victim)
        slot = Slot(owner)
        # Taken before any await, so racing openings cannot overshoot the limit.
        self._by_user.setdefault(owner[0], []).append(slot)
        if victim is not None and victim.close is not None:
            await victim.close()
        return slot

    def opened(self, slot: Slot, key: Key, close: Close, *, expires: bool) -> None:
        """The session of ``slot`` exists now, under ``key``; ``close`` ends it."""
        slot.key, slot.close, slot.expires = key, close, expires
        self._by_key[key] = slot

    def settled(self, slot: Slot) -> None:
        """The opening request is answered: the slot is idle now, or forgotten if nothing opened."""
        slot.in_flight -= 1
        slot.last_used = time.monotonic()
        if slot.key is None:
            self.forget(slot)

    def forget(self, slot: Slot) -> None:
        slots = self._by_user.get(slot.owner[0], [])
        if slot in slots:
            slots.remove(slot)
        if not slots:
            self._by_user.pop(slot.owner[0], None)
        if slot.key is not None and self._by_key.get(slot.key) is slot:
            del self._by_key[slot.key]

    def find(self, key: Key, owner: Owner) -> Slot | None:
        """The slot under ``key`` if ``owner`` opened it: the SDK answers anyone else 404 and leaves
        the session alone, so their requests neither use nor end it here."""
        slot = self._by_key.get(key)
        return slot if slot is not None and slot.owner == owner else None

    @contextmanager
    def using(self, slot: Slot | None) -> Iterator[None]:
        """Marks the slot in use while a request of it is served."""
        if slot is None:
            yield
            return
        slot.in_flight += 1
        try:
            yield
        finally:
            slot.in_flight -= 1
            slot.last_used = time.monotonic()

    def _drop_expired(self, slots: list[Slot]) -> None:
        """Forget sessions the SDK has forgotten by now (idle past its lifetime)."""
        if self.idle_lifetime is None:
            return
        horizon = time.monotonic() - self.idle_lifetime
        for slot in [s for s in slots if s.expires and s.idle and s.last_used < horizon]:
            self.forget(slot)


async def refuse(send: Send, per_user: int) -> None:
    """429 with a JSON-RPC error body, as the SDK words its own session-limit refusal."""
    message = (f"Too many open sessions: this account already has {per_user} MCP sessions open and "
               f"all of them are in use. Close one (end a legacy SSE stream, or DELETE /mcp with a "
               f"session's Mcp-Session-Id) or try again when one is done.")
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": message}}).encode()
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})
