"""A sliding-window rate limit kept in this process's memory (per instance, which is enough to
stop one address from flooding dynamic client registration)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from axiom_mcp.oauth.errors import TooManyRequests

_MAX_KEYS = 10_000


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
