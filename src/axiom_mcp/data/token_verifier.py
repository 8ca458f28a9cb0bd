"""Verifying bearer tokens on the hot path, with a short cache that revocation clears.

A verified token is trusted for ``settings.token_cache_seconds`` (2 s by default) without a
database read. Revocation in this process drops it from the cache at once; another instance
sharing the database sees a revocation within that bound.

Lookups are single-flight: when a token's entry expires while many requests carry it (a busy
client, the benchmarks' 32 connections), one lookup runs and the others wait for its answer
instead of each taking a database connection at the same moment (that stampede put a spike
into the tail latency every 2 s). A lookup that a revocation overtook does not enter the cache.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any

from axiom_mcp.data.tokens import MAX_CREDENTIAL_LENGTH, TokenInfo, find_access_token
from axiom_mcp.db.engine import Database
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret

_MAX_ENTRIES = 10_000


class _Lookup:
    """One database lookup of a token, shared by the requests that arrive while it runs."""

    def __init__(self, revocations: int, lookup: Coroutine[Any, Any, TokenInfo | None]) -> None:
        self.revocations = revocations
        self.task: asyncio.Task[TokenInfo | None] = asyncio.ensure_future(lookup)


class AccessTokenVerifier:
    def __init__(self, db: Database, cache_seconds: float) -> None:
        self._db = db
        self._ttl = cache_seconds
        self._cache: OrderedDict[str, tuple[float, TokenInfo]] = OrderedDict()
        self._lookups: dict[str, _Lookup] = {}
        self._revocations = 0
        """Bumped by every ``forget*``: a lookup that started before one must not be cached."""

    async def verify(self, raw: str) -> TokenInfo | None:
        """What the token grants, or None when it is unknown, revoked or expired."""
        if not raw or len(raw) > MAX_CREDENTIAL_LENGTH:
            return None
        key = hash_secret(raw)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic() and hit[1].expires > utcnow():
            return hit[1]
        lookup = self._lookups.get(key)
        if lookup is None or lookup.revocations != self._revocations:
            # Only a lookup begun after the latest revocation may answer: one begun before it
            # might have read the token before it was revoked.
            lookup = self._lookups[key] = _Lookup(self._revocations, self._look_up(key, raw, self._revocations))
            lookup.task.add_done_callback(lambda _done: self._finished(key, lookup))
        # shield: a caller that goes away (client disconnect) does not cancel the others' answer
        return await asyncio.shield(lookup.task)

    def _finished(self, key: str, lookup: _Lookup) -> None:
        if self._lookups.get(key) is lookup:
            del self._lookups[key]
        if not lookup.task.cancelled():
            lookup.task.exception()  # retrieved: every waiter got it, or none was left to

    async def _look_up(self, key: str, raw: str, revocations: int) -> TokenInfo | None:
        started = time.monotonic()
        async with self._db.session() as session:
            info = await find_access_token(session, raw)
        if info is None:
            self._cache.pop(key, None)
            return None
        # A revocation during the lookup may or may not be in what it read: answer this request
        # (it was in flight when the revocation came), but cache nothing for the next ones.
        if self._ttl > 0 and revocations == self._revocations:
            self._cache[key] = (started + self._ttl, info)
            self._cache.move_to_end(key)
            while len(self._cache) > _MAX_ENTRIES:
                self._cache.popitem(last=False)
        return info

    def forget(self, *, user_id: str | None = None, client_id: str | None = None, grant_id: str | None = None) -> None:
        """Drop cached tokens matching every given criterion (called after a revocation)."""
        self._revocations += 1
        for key, (_, info) in list(self._cache.items()):
            if (
                (user_id is None or info.user_id == user_id)
                and (client_id is None or info.client_id == client_id)
                and (grant_id is None or info.grant_id == grant_id)
            ):
                self._cache.pop(key, None)

    def forget_token(self, raw: str) -> None:
        self._revocations += 1
        self._cache.pop(hash_secret(raw), None)

    def clear(self) -> None:
        self._revocations += 1
        self._cache.clear()
