"""Both blob backends behave alike: round trips, ranges, limits, deletes, sweeps; streams stay streams."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from axiom_mcp.blobs.folder import FolderStore
from axiom_mcp.blobs.store import BlobMissing, BlobStore, BlobTooLarge
from axiom_mcp.ids import utcnow

MiB = 1024 * 1024


async def generated(size: int, chunk: int = 64 * 1024, seed: int = 7) -> AsyncIterator[bytes]:
    """``size`` deterministic, incompressible-looking bytes, made a chunk at a time."""
    block = hashlib.sha256(str(seed).encode()).digest() * (chunk // 32)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece


def expected(size: int, seed: int = 7) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest() * (64 * 1024 // 32)
    return (block * (size // len(block) + 1))[:size]


async def read(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in await store.open(key, start, end)])


async def keys(store: BlobStore) -> list[str]:
    return sorted([key async for key in store.keys_older_than(utcnow() + timedelta(minutes=1))])


@pytest.mark.parametrize("size", [0, 1, 5 * MiB + 3, 17 * MiB + 1], ids=["empty", "one-byte", "two-parts", "three-parts"])
async def test_round_trip(store: BlobStore, size: int) -> None:
    written = await store.put("u1/f1", generated(size), limit=size)
    data = expected(size)
    assert written.size == size and written.sha256 == hashlib.sha256(data).hexdigest()
    assert await read(store, "u1/f1") == data


@pytest.mark.parametrize(("start", "end"), [(0, 10), (5, None), (100, 100), (9 * MiB - 5, 9 * MiB + 5), (0, None)])
async def test_byte_ranges(store: BlobStore, start: int, end: int | None) -> None:
    size = 9 * MiB + 10
    await store.put("u1/ranged", generated(size), limit=size)
    assert await read(store, "u1/ranged", start, end) == expected(size)[start:end]


async def test_past_the_limit_nothing_is_kept(store: BlobStore) -> None:
    with pytest.raises(BlobTooLarge):
        await store.put("u1/big", generated(9 * MiB + 1), limit=9 * MiB)
    assert await keys(store) == []
    assert await store.remove_partials(utcnow() + timedelta(minutes=1)) == 0  # aborted, not abandoned
    with pytest.raises(BlobMissing):
        await store.open("u1/big")


async def test_an_error_in_the_stream_keeps_nothing(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        async for chunk in generated(12 * MiB):
            yield chunk
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await store.put("u1/broken", broken(), limit=100 * MiB)
    assert await keys(store) == []
    assert await store.remove_partials(utcnow() + timedelta(minutes=1)) == 0


async def test_delete_and_missing(store: BlobStore) -> None:
    await store.put("u1/a", generated(10), limit=10)
    await store.put("u2/b", generated(10), limit=10)
    assert await keys(store) == ["u1/a", "u2/b"]
    await store.delete("u1/a")
    await store.delete("u1/a")  # already gone: fine
    assert await keys(store) == ["u2/b"]
    with pytest.raises(BlobMissing):
        await store.open("u1/a")
    with pytest.raises(BlobMissing):
        await store.open("u1/a", 0, 0)


async def test_only_blobs_written_before_the_time_are_listed(store: BlobStore) -> None:
    await store.put("u1/old", generated(10), limit=10)
    assert [key async for key in store.keys_older_than(utcnow() - timedelta(hours=1))] == []
    assert await keys(store) == ["u1/old"]


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "u1//f", "U1/F", "u1/f.txt", ""])
async def test_keys_cannot_name_paths(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="not a blob key"):
        await store.put(key, generated(1), limit=1)


async def test_streams_both_ways_without_holding_the_file(store: BlobStore) -> None:
    size = 60 * MiB
    tracemalloc.start()
    try:
        written = await store.put("u1/large", generated(size), limit=size)
        digest = hashlib.sha256()
        async for chunk in await store.open("u1/large"):
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written.size == size and digest.hexdigest() == written.sha256
    assert peak < 24 * MiB, f"peak {peak / MiB:.1f} MiB while streaming {size // MiB} MiB"


async def test_a_folder_upload_is_invisible_until_complete(tmp_path: Path) -> None:
    """Mid-upload only a hidden temporary file exists; sweeping it later is remove_partials' job."""
    store = FolderStore(tmp_path)
    seen: list[list[str]] = []

    async def watched() -> AsyncIterator[bytes]:
        async for chunk in generated(1 * MiB):
            yield chunk
        seen.append(await keys(store))
        seen.append([p.name for p in tmp_path.rglob("*") if p.is_file()])

    await store.put("u1/f", watched(), limit=MiB)
    assert seen[0] == [] and len(seen[1]) == 1 and seen[1][0].startswith(".f.") and seen[1][0].endswith(".part")
    assert await keys(store) == ["u1/f"]
