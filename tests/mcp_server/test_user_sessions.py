"""The per-user session table on its own: limits of one, expiry, and other credentials.

(The table against real sessions and streams: ``tests/hardening/test_mcp_sessions.py``.)
"""

from __future__ import annotations

import time

from axiom_mcp.mcp_server.user_sessions import Close, Slot, UserSessions

ANN = ("ann", "client-a")


class Closed:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def closer(self, key: str) -> Close:
        async def close() -> None:
            self.keys.append(key)
        return close


async def _open(table: UserSessions, closed: Closed, key: str, owner: tuple[str, str] = ANN) -> Slot:
    slot = await table.admit(owner)
    assert slot is not None
    table.opened(slot, ("session", key), closed.closer(key), expires=True)
    table.settled(slot)
    return slot


async def test_a_limit_of_one_replaces_the_idle_session() -> None:
    table, closed = UserSessions(1, None), Closed()
    await _open(table, closed, "a")
    await _open(table, closed, "b")
    assert closed.keys == ["a"]
    assert table.find(("session", "a"), ANN) is None and table.find(("session", "b"), ANN) is not None


async def test_a_session_in_use_is_never_closed_and_an_opening_one_is_in_use() -> None:
    table, closed = UserSessions(2, None), Closed()
    busy = await _open(table, closed, "a")
    opening = await table.admit(ANN)
    with table.using(busy):
        assert await table.admit(ANN) is None
    assert opening is not None and closed.keys == []


async def test_sessions_the_sdk_has_forgotten_do_not_count() -> None:
    table, closed = UserSessions(1, 60.0), Closed()
    old = await _open(table, closed, "a")
    old.last_used = time.monotonic() - 61
    await _open(table, closed, "b")
    assert closed.keys == []  # it was gone already: nothing to close


async def test_another_credential_of_the_same_user_neither_uses_nor_finds_a_session() -> None:
    table, closed = UserSessions(1, None), Closed()
    await _open(table, closed, "a")
    assert table.find(("session", "a"), ("ann", "client-b")) is None
    assert table.find(("stream", "a"), ANN) is None
    assert await table.admit(("ann", "client-b")) is not None  # the limit is per user
    assert closed.keys == ["a"]
