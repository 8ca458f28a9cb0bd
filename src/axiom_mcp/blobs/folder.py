"""Blobs as files in a folder (the default: ``<data dir>/files``).

A blob is written to a hidden temporary file beside its final name, flushed to disk, then renamed
over the key with ``os.replace`` (atomic on POSIX): a crash mid-upload leaves at most a temporary
file, never a half blob under a real key, and ``remove_partials`` sweeps those.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from axiom_mcp.blobs.store import KEY, BlobMissing, Meter, Written, check_key

READ_CHUNK = 256 * 1024
PARTIAL_SUFFIX = ".part"


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _walk(root: Path, before: float, partials: bool) -> list[Path]:
    """Files under ``root`` modified before ``before``: the temporary ones or the blobs."""
    found: list[Path] = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith(PARTIAL_SUFFIX) != partials:
                continue
            path = Path(folder, name)
            try:
                if path.stat().st_mtime < before:
                    found.append(path)
            except FileNotFoundError:  # renamed or removed meanwhile
                continue
    return found


class FolderStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    async def put(self, key: str, chunks: AsyncIterable[bytes], *, limit: int) -> Written:
        final = self._path(key)
        await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
        partial = final.with_name(f".{final.name}.{secrets.token_hex(8)}{PARTIAL_SUFFIX}")
        meter = Meter(limit)
        handle: BinaryIO = await asyncio.to_thread(open, partial, "xb")
        try:
            try:
                async for chunk in chunks:
                    meter.add(chunk)
                    await asyncio.to_thread(handle.write, chunk)
                await asyncio.to_thread(handle.flush)
                await asyncio.to_thread(os.fsync, handle.fileno())
            finally:
                await asyncio.to_thread(handle.close)
            await asyncio.to_thread(os.replace, partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        await asyncio.to_thread(_fsync_folder, final.parent)  # the rename itself survives a power cut
        return meter.written()

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        try:
            handle: BinaryIO = await asyncio.to_thread(open, self._path(key), "rb")
        except FileNotFoundError:
            raise BlobMissing(key) from None
        return self._read(handle, start, end)

    async def _read(self, handle: BinaryIO, start: int, end: int | None) -> AsyncIterator[bytes]:
        try:
            await asyncio.to_thread(handle.seek, start)
            left = None if end is None else max(end - start, 0)
            while left is None or left > 0:
                chunk = await asyncio.to_thread(handle.read, READ_CHUNK if left is None else min(READ_CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def keys_older_than(self, before: datetime) -> AsyncIterator[str]:
        for path in await asyncio.to_thread(_walk, self.root, before.timestamp(), False):
            key = path.relative_to(self.root).as_posix()
            if KEY.match(key):
                yield key

    async def remove_partials(self, before: datetime) -> int:
        found = await asyncio.to_thread(_walk, self.root, before.timestamp(), True)
        for path in found:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        return len(found)

    async def close(self) -> None:
        return None
