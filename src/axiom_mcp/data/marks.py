"""Rank marks: exact deep pages of a user's items without walking the whole OFFSET.

A page is ``ORDER BY created DESC, id DESC LIMIT n OFFSET k``; the index (user_id, created, id)
serves it, but OFFSET still steps over k index entries. The marks are the sort keys (created, id)
of every ``BLOCK``-th item in list order; a page at offset k >= BLOCK starts after the nearest mark,
a seek on the same index, and skips fewer than BLOCK entries.

Exactness: the marks are tagged with the user's ``users.items_version``, which the database itself
bumps (triggers, migration 0011) in the transaction that inserts or deletes one of the user's items
or changes an item's owner or ``created``, whoever writes. The page statement reads the version
beside the rows (one statement, one snapshot); when it differs from the marks' tag the marks are
recomputed, so a page is never built on a stale order. The marks come from ONE statement that also
reads the version: a recursive query hopping from mark to mark with seeks on the index.
What this costs and buys, and the block sizes tried, are in bench/README.md.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

BLOCK = 512
"""Items per mark: a page skips fewer than BLOCK index entries; computing the marks costs one seek
and one primary-key lookup per mark (bench/README.md: 256, 512 and 1024 measured alike)."""

MARKED = "items"
"""The kind (table) the marks are kept for."""

MAX_USERS = 1000
"""Users whose marks a ``Database`` keeps (least recently used first out)."""


@dataclass(frozen=True, slots=True)
class Marks:
    version: int
    """The user's ``items_version`` the marks were computed at."""
    keys: tuple[tuple[Any, Any], ...]
    """(created, id) of rows BLOCK-1, 2*BLOCK-1, ... as the driver returned them (SQLite: text,
    asyncpg: datetimes), passed back unchanged as the seek's parameters."""


class MarksCache:
    """One per ``Database``: its read pool fills it; its sessions only read it (a session's marks
    would be tagged with its uncommitted version, which a rollback could later hand to other rows)."""

    def __init__(self, block: int = BLOCK, users: int = MAX_USERS) -> None:
        if block < 2:
            raise ValueError("a block holds at least 2 items")
        self.block = block
        """Fixed for the cache's life: every entry was computed with it."""
        self.users = users
        self._marks: OrderedDict[str, Marks] = OrderedDict()

    def get(self, user_id: str) -> Marks | None:
        marks = self._marks.get(user_id)
        if marks is not None:
            self._marks.move_to_end(user_id)
        return marks

    def put(self, user_id: str, marks: Marks) -> None:
        self._marks[user_id] = marks
        self._marks.move_to_end(user_id)
        while len(self._marks) > self.users:
            self._marks.popitem(last=False)

    def forget(self, user_id: str) -> None:
        self._marks.pop(user_id, None)


def marks_cache(source: Any) -> MarksCache | None:
    """The cache of a ``Database`` or of one of its sessions (both have ``info``)."""
    cache = source.info.get("marks")
    return cache if isinstance(cache, MarksCache) else None


@lru_cache(maxsize=8)
def marks_sql(block: int = BLOCK) -> str:
    """(version, created, id) rows, marks in list order; one row of NULL keys when there are none,
    no row when the user does not exist. Placeholders: the owner, three times."""
    skip = block - 1
    return (
        "WITH RECURSIVE m(n, created, id) AS ("
        " SELECT 1, created, id FROM (SELECT created, id FROM items WHERE user_id = ?"
        f" ORDER BY created DESC, id DESC LIMIT 1 OFFSET {skip}) AS first"
        " UNION ALL"
        " SELECT m.n + 1, i.created, i.id FROM m JOIN items AS i ON i.id = ("
        "SELECT id FROM items WHERE user_id = ? AND (created, id) < (m.created, m.id)"
        f" ORDER BY created DESC, id DESC LIMIT 1 OFFSET {skip}))"
        " SELECT u.items_version, m.created, m.id FROM users AS u LEFT JOIN m ON 1 = 1"
        " WHERE u.id = ? ORDER BY m.n"
    )


def marks_from_rows(rows: list[Any]) -> Marks | None:
    """The marks ``marks_sql``'s rows describe (None: no such user)."""
    if not rows:
        return None
    keys = tuple((row[1], row[2]) for row in rows if row[2] is not None)
    return Marks(version=int(rows[0][0]), keys=keys)
