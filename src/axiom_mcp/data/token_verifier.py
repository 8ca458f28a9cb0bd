"""Verifying bearer tokens on the hot path, with a short cache that revocation clears.

A verified token is trusted for ``settings.token_cache_seconds`` (2 s by default) without a
database read. Revocation in this process drops it from the cache at once; another instance
sharing the database sees a revocation within that bound.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from axiom_mcp.data.tokens import TokenInfo, find_access_token
from axiom_mcp.db.engine import Database
from axiom_mcp.ids import utcnow
from axiom_mcp.security.secrets import hash_secret

_MAX_ENTRIES = 10_000


class AccessTokenVerifier:
    def __init__(self, db: Database, cache_seconds: float) -> None:
        self._db = db
        self._ttl = cache_seconds
        self._cache: OrderedDict[str, tuple[float, TokenInfo]] = OrderedDict()

    async def verify(self, raw: str) -> TokenInfo | None:
        """What the token grants, or None when it is unknown, revoked or expired."""
        if not raw or len(raw) > 512:
            return None
        key = hash_secret(raw)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now and hit[1].expires > utcnow():
            return hit[1]
        async with self._db.session() as session:
            info = await find_access_token(session, raw)
        if info is None:
            self._cache.pop(key, None)
            return None
        if self._ttl > 0:
            self._cache[key] = (now + self._ttl, info)
            self._cache.move_to_end(key)
            while len(self._cache) > _MAX_ENTRIES:
                self._cache.popitem(last=False)
        return info

    def forget(self, *, user_id: str | None = None, client_id: str | None = None, grant_id: str | None = None) -> None:
        """Drop cached tokens matching every given criterion (called after a revocation)."""
        for key, (_, info) in list(self._cache.items()):
            if (
                (user_id is None or info.user_id == user_id)
                and (client_id is None or info.client_id == client_id)
                and (grant_id is None or info.grant_id == grant_id)
            ):
                self._cache.pop(key, None)

    def forget_token(self, raw: str) -> None:
        self._cache.pop(hash_secret(raw), None)

    def clear(self) -> None:
        self._cache.clear()
