"""Attached files on SQLite and PostgreSQL, in a folder and in S3 (moto's real server on loopback):
round trips that stream, every limit and the quota (raced), types from bytes, owners, deletes,
orphans, and a process killed mid-upload."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from axiom_mcp.blobs.folder import FolderStore
from axiom_mcp.blobs.s3 import S3Store
from axiom_mcp.blobs.store import BlobStore
from axiom_mcp.context import AppContext
from axiom_mcp.data import files
from axiom_mcp.data.cleanup import remove_expired
from axiom_mcp.db.tables import Item, ItemFile, User
from axiom_mcp.errors import NotFoundError, ValidationFailed
from axiom_mcp.ids import utcnow
from axiom_mcp.settings import Settings
from tests.support.factories import TestUser
from tests.support.s3 import S3Server, s3_server

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(params=["folder", "s3"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    if request.param == "folder":
        store: BlobStore = FolderStore(tmp_path / "files")
    else:
        server: S3Server = request.getfixturevalue("s3")
        store = server.store(server.new_bucket())
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def item(ctx: AppContext, user: TestUser) -> str:
    return await _new_item(ctx, user.id)


async def _new_item(ctx: AppContext, user_id: str) -> str:
    async with ctx.db.session() as session:
        row = Item(user_id=user_id, name="with files")
        session.add(row)
        await session.flush()
        return row.id


def limits(ctx: AppContext, **values: int) -> Settings:
    return ctx.settings.model_copy(update=values)


async def stream(data: bytes, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    for at in range(0, len(data), chunk):
        yield data[at : at + chunk]


async def generated(size: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """``size`` bytes (a repeated, binary block), made a chunk at a time: never whole in memory."""
    block = hashlib.sha256(b"seed").digest() * (chunk // 32)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece


async def visible_blobs(store: BlobStore) -> list[str]:
    return [key async for key in store.keys_older_than(utcnow() + timedelta(minutes=1))]


async def read_all(ctx: AppContext, store: BlobStore, user_id: str, file_id: str, *span: int) -> bytes:
    async with ctx.db.session() as session:
        download = await files.open_file(session, store, user_id, file_id, *span)
    return b"".join([chunk async for chunk in download.chunks])


async def usage(ctx: AppContext, user_id: str) -> files.Usage:
    async with ctx.db.session() as session:
        return await files.storage_usage(session, ctx.settings, user_id)


# --- round trips ------------------------------------------------------------------------------------


async def test_a_small_file_round_trips(ctx: AppContext, blobs: BlobStore, user: TestUser, item: str) -> None:
    data = "Grüße, Émoji 🙂\n".encode() * 3
    added = await files.add_file(ctx.db, blobs, ctx.settings, user.id, item, "notes.txt", stream(data, 7))
    assert (added.name, added.size, added.content_type) == ("notes.txt", len(data), "text/plain")
    assert added.sha256 == hashlib.sha256(data).hexdigest() and added.item_id == item
    async with ctx.db.session() as session:
        assert await files.list_files(session, user.id, item) == [added]
        assert await files.get_file(session, user.id, added.id) == added
    assert await read_all(ctx, blobs, user.id, added.id) == data
    assert await read_all(ctx, blobs, user.id, added.id, 3, 10) == data[3:10]
    assert await usage(ctx, user.id) == files.Usage(used=len(data), quota=ctx.settings.storage_quota, files=1)


async def test_a_60_mib_file_streams_in_and_out_without_being_held(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str
) -> None:
    size = 60 * MiB
    settings = limits(ctx, max_file_size=64 * MiB)
    tracemalloc.start()
    try:
        added = await files.add_file(ctx.db, blobs, settings, user.id, item, "big.bin", generated(size))
        digest, received = hashlib.sha256(), 0
        async with ctx.db.session() as session:
            download = await files.open_file(session, blobs, user.id, added.id)
        async for chunk in download.chunks:
            digest.update(chunk)
            received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert added.size == received == size and digest.hexdigest() == added.sha256
    assert added.content_type == "application/octet-stream"
    assert peak < 24 * MiB, f"{peak / MiB:.1f} MiB held at once for a {size // MiB} MiB file"
    await files.delete_file(ctx.db, blobs, user.id, added.id)


@pytest.mark.parametrize(("start", "end"), [(10, 9), (-1, 5), (0, 101)], ids=["backwards", "negative", "past-the-end"])
async def test_a_range_outside_the_file_is_refused(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str, start: int, end: int
) -> None:
    added = await files.add_file(ctx.db, blobs, ctx.settings, user.id, item, "a.bin", stream(b"\0" * 100))
    with pytest.raises(files.RangeNotSatisfiable) as failure:
        await read_all(ctx, blobs, user.id, added.id, start, end)
    assert failure.value.field == "range" and failure.value.status_code == 416


# --- types from bytes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "complete", "expected"),
    [
        pytest.param(PNG, True, "image/png", id="png"),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x80\x00\x00", True, "image/gif", id="gif"),
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", True, "image/jpeg", id="jpeg"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", True, "application/pdf", id="pdf"),
        pytest.param(b"hello", True, "text/plain", id="ascii"),
        pytest.param("naïve café\r\n\ttabbed".encode(), True, "text/plain", id="utf-8"),
        pytest.param(b"<html><script>alert(1)</script></html>", True, "text/plain", id="html-is-text"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", True, "text/plain", id="svg-is-text"),
        pytest.param(b'{"a": 1}', True, "text/plain", id="json-is-text"),
        pytest.param(b"BMW and MZ start sentences too", True, "text/plain", id="short-signatures-in-text"),
        pytest.param(("a" * 99 + "é").encode()[:100], False, "text/plain", id="character-cut-at-the-sniff-end"),
        pytest.param(("a" * 99 + "é").encode()[:100], True, "application/octet-stream", id="truncated-utf-8-file"),
        pytest.param(bytes(range(256)), True, "application/octet-stream", id="binary"),
        pytest.param(b"", True, "text/plain", id="empty"),
    ],
)
def test_the_type_is_read_from_the_bytes(head: bytes, complete: bool, expected: str) -> None:
    assert files.content_type_of(head, complete=complete) == expected


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        pytest.param("holiday.txt", PNG + b"\0" * 100, "image/png", id="png-named-txt"),
        pytest.param("photo.png", b"just some words\n" * 10_000, "text/plain", id="text-named-png"),
    ],
)
async def test_the_name_never_decides_the_type(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str, name: str, data: bytes, expected: str
) -> None:
    added = await files.add_file(ctx.db, blobs, ctx.settings, user.id, item, name, stream(data))
    assert (added.name, added.content_type) == (name, expected)


@pytest.mark.parametrize(
    ("given", "stored"),
    [("C:\\Users\\ann\\report.pdf", "report.pdf"), ("../../etc/passwd", "passwd"), ("Cafe\u0301.txt", "Café.txt")],
    ids=["windows-path", "traversal", "nfc"],
)
async def test_names_are_stored_as_their_last_segment(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str, given: str, stored: str
) -> None:
    added = await files.add_file(ctx.db, blobs, ctx.settings, user.id, item, given, stream(b"x"))
    assert added.name == stored


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("", "needs a name", id="empty"),
        pytest.param("dir/", "needs a name", id="folder"),
        pytest.param("..", "needs a name", id="dot-dot"),
        pytest.param("invoice\u202efdp.exe", "control or invisible", id="bidi-override"),
        pytest.param("a\nb.txt", "control or invisible", id="newline"),
        pytest.param("x" * 256, "longer than 255", id="too-long"),
    ],
)
async def test_bad_names_are_refused_before_any_byte(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str, name: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        await files.add_file(ctx.db, blobs, ctx.settings, user.id, item, name, stream(b"x"))
    assert failure.value.field == "name" and message in failure.value.message
    assert await visible_blobs(blobs) == []


# --- limits -----------------------------------------------------------------------------------------


async def _nothing_kept(ctx: AppContext, store: BlobStore, user_id: str, item_id: str, files_before: int = 0) -> None:
    async with ctx.db.session() as session:
        assert len(await files.list_files(session, user_id, item_id)) == files_before
    assert len(await visible_blobs(store)) == files_before
    assert await store.remove_partials(utcnow() + timedelta(minutes=1)) == 0


async def test_a_file_over_the_size_limit_is_refused_while_streaming(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str
) -> None:
    settings = limits(ctx, max_file_size=6 * MiB)
    sent: list[int] = []

    async def counted() -> AsyncIterator[bytes]:
        async for chunk in generated(40 * MiB):
            sent.append(len(chunk))
            yield chunk

    with pytest.raises(files.FileTooLarge) as failure:
        await files.add_file(ctx.db, blobs, settings, user.id, item, "big.bin", counted())
    assert failure.value.field == "file" and "6291456 bytes" in failure.value.message
    assert sum(sent) <= 6 * MiB + 64 * 1024, "the stream was read to its end before being refused"
    await _nothing_kept(ctx, blobs, user.id, item)
    exact = await files.add_file(ctx.db, blobs, settings, user.id, item, "fits.bin", generated(6 * MiB))
    assert exact.size == 6 * MiB


async def test_the_quota_counts_every_file_of_the_person(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str
) -> None:
    settings = limits(ctx, storage_quota=3 * MiB)
    other_item = await _new_item(ctx, user.id)
    await files.add_file(ctx.db, blobs, settings, user.id, item, "one.bin", generated(2 * MiB))
    with pytest.raises(files.QuotaExceeded) as failure:
        await files.add_file(ctx.db, blobs, settings, user.id, other_item, "two.bin", generated(2 * MiB))
    assert failure.value.field == "file" and "2097152 of 3145728 bytes used" in failure.value.message
    async with ctx.db.session() as session:
        assert await files.list_files(session, user.id, other_item) == []
    assert len(await visible_blobs(blobs)) == 1
    await files.add_file(ctx.db, blobs, settings, user.id, other_item, "rest.bin", generated(1 * MiB))
    assert (await usage(ctx, user.id)).used == 3 * MiB


async def test_an_item_holds_at_most_99_files(ctx: AppContext, blobs: BlobStore, user: TestUser, item: str) -> None:
    await asyncio.gather(*[
        files.add_file(ctx.db, blobs, ctx.settings, user.id, item, f"{n}.txt", stream(b"x"))
        for n in range(files.MAX_FILES_PER_ITEM)
    ])
    with pytest.raises(files.TooManyFiles) as failure:
        await files.add_file(ctx.db, blobs, ctx.settings, user.id, item, "100.txt", stream(b"x"))
    assert failure.value.field == "files" and "at most 99" in failure.value.message
    await _nothing_kept(ctx, blobs, user.id, item, files.MAX_FILES_PER_ITEM)


async def test_two_uploads_racing_for_the_last_bytes_of_the_quota_cannot_both_win(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str
) -> None:
    """Both pass the check before streaming; both finish streaming together; one row only may follow."""
    settings = limits(ctx, storage_quota=3 * MiB)
    both_streamed = asyncio.Barrier(2)

    async def held_at_the_end(size: int) -> AsyncIterator[bytes]:
        async for chunk in generated(size):
            yield chunk
        await both_streamed.wait()

    results = await asyncio.gather(
        *[files.add_file(ctx.db, blobs, settings, user.id, item, f"{n}.bin", held_at_the_end(2 * MiB)) for n in (1, 2)],
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["FileOut", "QuotaExceeded"], results
    assert (await usage(ctx, user.id)).used == 2 * MiB
    await _nothing_kept(ctx, blobs, user.id, item, 1)


# --- owners -----------------------------------------------------------------------------------------


async def test_another_persons_file_and_item_are_not_found(
    ctx: AppContext, blobs: BlobStore, user: TestUser, other_user: TestUser, item: str
) -> None:
    added = await files.add_file(ctx.db, blobs, ctx.settings, user.id, item, "mine.txt", stream(b"private"))
    async with ctx.db.session() as session:
        with pytest.raises(NotFoundError):
            await files.get_file(session, other_user.id, added.id)
        with pytest.raises(NotFoundError):
            await files.open_file(session, blobs, other_user.id, added.id)
        with pytest.raises(NotFoundError):
            await files.list_files(session, other_user.id, item)
    with pytest.raises(NotFoundError):
        await files.delete_file(ctx.db, blobs, other_user.id, added.id)
    with pytest.raises(NotFoundError) as failure:
        await files.add_file(ctx.db, blobs, ctx.settings, other_user.id, item, "theirs.txt", stream(b"x"))
    assert failure.value.field == "item"
    assert await read_all(ctx, blobs, user.id, added.id) == b"private"
    assert len(await visible_blobs(blobs)) == 1
    assert (await usage(ctx, other_user.id)).used == 0


# --- going away -------------------------------------------------------------------------------------


async def test_deleting_a_file_removes_its_row_and_bytes(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str
) -> None:
    added = await files.add_file(ctx.db, blobs, ctx.settings, user.id, item, "gone.txt", stream(b"bye"))
    await files.delete_file(ctx.db, blobs, user.id, added.id)
    with pytest.raises(NotFoundError):
        await read_all(ctx, blobs, user.id, added.id)
    assert await visible_blobs(blobs) == [] and (await usage(ctx, user.id)).used == 0


async def test_deleting_an_item_or_an_account_takes_their_files_away(
    ctx: AppContext, blobs: BlobStore, user: TestUser, other_user: TestUser, item: str
) -> None:
    second = await _new_item(ctx, user.id)
    theirs = await _new_item(ctx, other_user.id)
    for item_id in (item, second):
        await files.add_file(ctx.db, blobs, ctx.settings, user.id, item_id, "a.txt", stream(b"a"))
    kept = await files.add_file(ctx.db, blobs, ctx.settings, other_user.id, theirs, "b.txt", stream(b"b"))

    async with ctx.db.session() as session:  # what deleting an item does
        keys = await files.item_blob_keys(session, user.id, item)
        await session.execute(delete(Item).where(Item.id == item, Item.user_id == user.id))
    assert await files.remove_blobs(blobs, keys) == 1
    assert len(await visible_blobs(blobs)) == 2

    async with ctx.db.session() as session:  # what deleting an account does
        keys = await files.user_blob_keys(session, user.id)
        await session.execute(delete(User).where(User.id == user.id))
    assert await files.remove_blobs(blobs, keys) == 1
    async with ctx.db.session() as session:
        assert list(await session.scalars(select(ItemFile.user_id).where(ItemFile.user_id == user.id))) == []
    assert await visible_blobs(blobs) == [f"{other_user.id}/{kept.id}"]


async def test_orphan_blobs_are_swept_and_named_ones_kept(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str
) -> None:
    added = await files.add_file(ctx.db, blobs, ctx.settings, user.id, item, "kept.txt", stream(b"kept"))
    await blobs.put(f"{user.id}/orphan000000000", stream(b"no row names me"), limit=100)
    async with ctx.db.session() as session:
        assert await files.sweep_orphans(session, blobs, utcnow() - files.ORPHAN_AGE) == 0  # too young yet
        assert await files.sweep_orphans(session, blobs, utcnow() + timedelta(minutes=1)) == 1
    assert await visible_blobs(blobs) == [f"{user.id}/{added.id}"]


async def test_cleanup_counts_the_orphans_it_removes(ctx: AppContext, user: TestUser, tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    await store.put(f"{user.id}/orphan000000001", stream(b"old"), limit=10)
    an_hour_ago = (utcnow() - files.ORPHAN_AGE - timedelta(minutes=1)).timestamp()
    os.utime(tmp_path / user.id / "orphan000000001", (an_hour_ago, an_hour_ago))
    async with ctx.db.session() as session:
        report = await remove_expired(session, ctx.settings, store)
    assert report.files == 1 and await visible_blobs(store) == []


# --- a crash mid-upload -----------------------------------------------------------------------------

CHILD = """
import asyncio, json, sys
from pathlib import Path
from axiom_mcp.blobs.folder import FolderStore
from axiom_mcp.data import files
from axiom_mcp.db.engine import Database
from tests.conftest import make_settings
from tests.support.s3 import S3Server

args = json.loads(sys.argv[1])

async def endless():
    sent = 0
    while True:
        yield b"\\x00" * 65536
        sent += 65536
        if sent == args["announce_at"]:
            print("streaming", flush=True)
        if sent >= args["announce_at"]:
            await asyncio.sleep(0.01)

async def main():
    settings = make_settings(args["database_url"], Path(args["data_dir"]), max_file_size=1 << 30)
    store = FolderStore(Path(args["folder"])) if args["bucket"] is None else S3Server(args["endpoint"]).store(args["bucket"])
    await files.add_file(Database(settings), store, settings, args["user"], args["item"], "killed.bin", endless())

asyncio.run(main())
"""


async def test_a_process_killed_mid_upload_leaves_nothing_behind(
    ctx: AppContext, blobs: BlobStore, user: TestUser, item: str, request: pytest.FixtureRequest
) -> None:
    s3_store = blobs if isinstance(blobs, S3Store) else None
    args = {
        "database_url": ctx.settings.database_url,
        "data_dir": str(ctx.settings.data_dir),
        "folder": str(blobs.root) if isinstance(blobs, FolderStore) else None,
        "bucket": s3_store.bucket if s3_store else None,
        "endpoint": request.getfixturevalue("s3").endpoint_url if s3_store else None,
        "user": user.id,
        "item": item,
        "announce_at": 12 * MiB,  # past two parts of a multipart upload
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        cwd=ROOT, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"},
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), timeout=120)  # type: ignore[union-attr]
        assert line.strip() == b"streaming"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()  # type: ignore[union-attr]
    assert child.returncode == -signal.SIGKILL

    assert await visible_blobs(blobs) == []
    async with ctx.db.session() as session:
        assert await files.list_files(session, user.id, item) == []
    assert await usage(ctx, user.id) == files.Usage(used=0, quota=ctx.settings.storage_quota, files=0)
    async with ctx.db.session() as session:  # what the crash left (a temporary file, an open multipart upload) goes
        assert await files.sweep_orphans(session, blobs, utcnow() + timedelta(minutes=1)) == 1
    assert await blobs.remove_partials(utcnow() + timedelta(minutes=1)) == 0
