"""The limit on dynamic client registrations (RFC 7591) per client address, shared by every instance.

``limit_registrations`` counts in the database (``data/rate_limits.registrations``: IPv6 keyed by /64)
and answers RFC 6749's ``temporarily_unavailable``. ``RateLimiter`` is the per-process limit it
replaces, kept only until the registration endpoint calls ``limit_registrations``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from axiom_mcp.data import rate_limits
from axiom_mcp.db.engine import Database
from axiom_mcp.errors import RateLimited
from axiom_mcp.oauth.errors import TooManyRequests
from axiom_mcp.settings import Settings

_MAX_KEYS = 10_000


async def limit_registrations(db: Database, settings: Settings, address: str | None) -> None:
    """Count one registration from ``address`` (its own transaction, before the registration runs),
    or raise TooManyRequests with Retry-After."""
    try:
        await rate_limits.count_registration(db, settings, address)
    except RateLimited as exc:
        raise TooManyRequests(exc.message, retry_after=exc.retry_after) from None


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str, what: str = "requests") -> None:
        """Count one request for ``key``; ``TooManyRequests`` when over the limit."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = max(1, math.ceil(hits[0] + self.window - now))
            raise TooManyRequests(f"Too many {what} from this address; try again in {retry} s.", retry_after=retry)
        hits.append(now)
        while len(self._hits) > _MAX_KEYS:
            self._hits.popitem(last=False)
