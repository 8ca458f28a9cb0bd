"""The one interface every blob backend offers, and what the backends share."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

KEY = re.compile(r"^[a-z0-9]+(/[a-z0-9]+)*$")
"""Keys are lowercase ids joined by slashes: nothing a path or an object name could misread."""


class BlobTooLarge(Exception):
    """The stream went past the byte limit ``put`` was given; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class BlobMissing(Exception):
    """No blob under that key."""


@dataclass(frozen=True)
class Written:
    size: int
    sha256: str
    """Hex digest of the bytes stored."""


class BlobStore(Protocol):
    async def put(self, key: str, chunks: AsyncIterable[bytes], *, limit: int) -> Written:
        """Store the stream under ``key``, visible only once complete; BlobTooLarge past ``limit`` bytes.

        On any error (the limit, the stream's own, a cancellation) nothing is left under ``key``."""
        ...

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes ``start`` to ``end`` (exclusive; None: to the end) as a stream of chunks.

        Raises BlobMissing here, before the first chunk, so a caller can answer 404 before sending."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the blob; a missing one is not an error."""
        ...

    def keys_older_than(self, before: datetime) -> AsyncIterator[str]:
        """Every complete blob's key last written before ``before`` (for sweeping orphans)."""
        ...

    async def remove_partials(self, before: datetime) -> int:
        """Remove uploads a crash abandoned (begun before ``before``, never completed); how many."""
        ...

    async def close(self) -> None: ...


def check_key(key: str) -> str:
    if not KEY.match(key):
        raise ValueError(f"not a blob key: {key!r}")
    return key


class Meter:
    """Counts and hashes the bytes of one upload, refusing any past the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise BlobTooLarge(self.limit)
        self._hash.update(chunk)

    def written(self) -> Written:
        return Written(self.size, self._hash.hexdigest())
