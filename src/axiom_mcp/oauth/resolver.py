"""DNS lookups for hosts chosen by strangers (Client ID Metadata Document URLs), on a few threads
of their own and under a time limit of their own.

``getaddrinfo`` blocks its thread and cannot be cancelled: giving up on the await leaves the thread
waiting for the system resolver. Run on the event loop's default executor, a few hosts whose DNS
never answers would hold every thread it has, and every other lookup (database hosts, outgoing
HTTP) would queue behind them. Here they hold at most ``workers`` threads; a lookup still queued
when its time runs out is dropped from the queue, so waiting requests cannot pile up either.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from concurrent.futures import ThreadPoolExecutor


class LookupFailed(Exception):
    """The host did not resolve in time, or not at all (the reason is the message, for the log)."""


class BoundedResolver:
    def __init__(self, workers: int, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="axiom-dns")

    async def resolve(self, host: str, port: int) -> list[str]:
        """The host's addresses (each once, in the resolver's order); ``LookupFailed`` otherwise."""
        lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            async with asyncio.timeout(self.timeout):
                infos = await asyncio.get_running_loop().run_in_executor(self._pool, lookup)
        except TimeoutError as exc:
            raise LookupFailed(f"the DNS lookup of {host!r} timed out") from exc
        except (OSError, UnicodeError) as exc:
            raise LookupFailed(f"{host!r} does not resolve ({exc})") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise LookupFailed(f"{host!r} does not resolve (no addresses)")
        return addresses

