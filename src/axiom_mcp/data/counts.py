"""Totals of long lists, kept for a moment: counting 100,000 rows on every page read is the cost.

A list page carries ``totalItems``; counting a user's 100,000 items is an index scan of 100,000
entries on every call, several times the cost of the page itself (bench/README.md). So an
unfiltered total of at least ``threshold`` rows is remembered for ``seconds`` per (owner, kind,
view: everything, or a restricted connection's access tags). This process forgets them at once
when it creates or deletes one of that owner's records (or changes a record's tags); another
instance sharing the database may show a total up to ``seconds`` old, the same bound the token
cache puts on revocation. Small totals (most users) are always counted, so they are always exact.

The cache belongs to one ``Database`` (data/caches.py puts it in ``Database.info``, which every
session of that database shares); a database or session without one simply counts.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from typing import Any

_MAX_ENTRIES = 10_000


class CountCache:
    def __init__(self, seconds: float = 2.0, threshold: int = 1000) -> None:
        self.seconds = seconds
        self.threshold = threshold
        self._totals: OrderedDict[tuple[str, str], dict[str, tuple[float, int]]] = OrderedDict()
        """(owner, kind) -> {the view's key ("" for everything) -> (expiry, total)}."""

    def get(self, user_id: str, kind: str, view: str = "") -> int | None:
        hit = self._totals.get((user_id, kind), {}).get(view)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def put(self, user_id: str, kind: str, total: int, view: str = "") -> None:
        if total < self.threshold or self.seconds <= 0:
            return
        key = (user_id, kind)
        totals = self._totals.setdefault(key, {})
        totals[view] = (time.monotonic() + self.seconds, total)
        self._totals.move_to_end(key)
        while len(self._totals) > _MAX_ENTRIES:
            self._totals.popitem(last=False)

    def forget(self, user_id: str, kind: str) -> None:
        """Every total of the owner's ``kind``, whatever the view."""
        self._totals.pop((user_id, kind), None)


def count_cache(source: Any) -> CountCache | None:
    """The cache of a ``Database`` or of one of its sessions (both have ``info``)."""
    cache = source.info.get("counts")
    return cache if isinstance(cache, CountCache) else None


def forget_count(session: Any, user_id: str, kind: str) -> None:
    """After creating or deleting one of ``user_id``'s records of ``kind``, or changing its tags."""
    cache = count_cache(session)
    if cache is not None:
        cache.forget(user_id, kind)
