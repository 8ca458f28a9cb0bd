"""Files through the REST API on SQLite and PostgreSQL: a streamed multipart upload, the list,
downloads (disposition, nosniff, the sandbox CSP, ranges), deletes, every limit with an error
naming the field, owners, and the blobs of a deleted item or account going with it."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from axiom_mcp.app import create_auth_app
from axiom_mcp.context import AppContext
from axiom_mcp.data import files, users
from axiom_mcp.data.files import MAX_FILES_PER_ITEM
from axiom_mcp.errors import NotFoundError
from axiom_mcp.ids import new_id
from tests.auth_service.conftest import API, ITEMS, assert_error, auth_app, bearer, create
from tests.conftest import make_settings
from tests.support.factories import TestUser, make_token, make_user
from tests.support.servers import running

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


async def _upload(api: httpx.AsyncClient, user: TestUser, item_id: str, name: str, data: bytes) -> httpx.Response:
    return await api.post(f"{API}/user/items/{item_id}/files", files={"file": (name, data, "application/octet-stream")},
                          headers=bearer(user))


@pytest.fixture
async def item(api: httpx.AsyncClient, user: TestUser) -> str:
    return str((await create(api, ITEMS, user))["id"])


async def test_upload_list_download_and_delete(api: httpx.AsyncClient, user: TestUser, item: str) -> None:
    data = "Grüße, Axiom\n".encode() * 5000
    made = await _upload(api, user, item, "notes é.txt", data)
    assert made.status_code == 201, made.text
    file = made.json()
    assert file["name"] == "notes é.txt" and file["size"] == len(data) and file["item_id"] == item
    assert file["content_type"] == "text/plain" and file["sha256"] == hashlib.sha256(data).hexdigest()

    listed = await api.get(f"{API}/user/items/{item}/files", headers=bearer(user))
    assert listed.status_code == 200 and [f["id"] for f in listed.json()] == [file["id"]]

    got = await api.get(f"{API}/user/files/{file['id']}", headers=bearer(user))
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''notes%20%C3%A9.txt" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox; frame-ancestors 'none'"
    assert got.headers["content-type"].startswith("text/plain")

    part = await api.get(f"{API}/user/files/{file['id']}", headers={**bearer(user), "Range": "bytes=7-12"})
    assert part.status_code == 206 and part.content == data[7:13]
    assert part.headers["content-range"] == f"bytes 7-12/{len(data)}"
    beyond = await api.get(f"{API}/user/files/{file['id']}", headers={**bearer(user), "Range": f"bytes={len(data)}-"})
    assert_error(beyond, 416, "range")

    assert (await api.delete(f"{API}/user/files/{file['id']}", headers=bearer(user))).status_code == 204
    assert_error(await api.get(f"{API}/user/files/{file['id']}", headers=bearer(user)), 404, "file")
    assert (await api.get(f"{API}/user/items/{item}/files", headers=bearer(user))).json() == []


async def test_a_large_upload_and_its_download_stream(ctx: AppContext, user: TestUser, item: str) -> None:
    """20 MiB through the API served on loopback, in 64 KiB chunks each way: far less than the file is
    ever held at once (httpx's in-process transport would buffer the whole answer itself)."""
    size, chunk = 20 * 1024 * 1024, bytes(range(256)) * 256
    head = b'--edge\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    tail = b"\r\n--edge--\r\n"

    async def body() -> AsyncIterator[bytes]:
        yield head
        for _ in range(size // len(chunk)):
            yield chunk
        yield tail

    tracemalloc.start()
    try:
        async with running(auth_app(ctx)) as url, httpx.AsyncClient(base_url=url, timeout=60) as api:
            made = await api.post(f"{API}/user/items/{item}/files", content=body(), headers={
                **bearer(user), "Content-Type": "multipart/form-data; boundary=edge"})
            assert made.status_code == 201, made.text
            digest, received = hashlib.sha256(), 0
            async with api.stream("GET", f"{API}/user/files/{made.json()['id']}", headers=bearer(user)) as got:
                async for part in got.aiter_bytes():
                    digest.update(part)
                    received += len(part)
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert made.json()["size"] == received == size and digest.hexdigest() == made.json()["sha256"]
    assert peak < 8 * 1024 * 1024, f"{peak / 2**20:.1f} MiB held at once for a 20 MiB file"


@pytest.mark.parametrize(("name", "data", "inline", "content_type"), [
    ("pixel.png", PNG, True, "image/png"),
    ("paper.pdf", PDF, True, "application/pdf"),
    ("page.html", b"<script>alert(1)</script>", False, "text/plain"),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', False, "text/plain"),
    ("image.png", b"<html><script>alert(1)</script></html>", False, "text/plain"),
])
async def test_only_images_and_pdfs_are_shown_inline_and_nothing_is_sniffed(
    api: httpx.AsyncClient, user: TestUser, item: str, name: str, data: bytes, inline: bool, content_type: str
) -> None:
    file = (await _upload(api, user, item, name, data)).json()
    got = await api.get(f"{API}/user/files/{file['id']}", headers=bearer(user))
    assert got.content == data
    assert got.headers["content-type"].split(";")[0] == content_type
    assert got.headers["content-disposition"].startswith("inline;" if inline else "attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox; frame-ancestors 'none'"


async def test_another_persons_files_and_items_are_not_found(
    api: httpx.AsyncClient, user: TestUser, other_user: TestUser, item: str
) -> None:
    file = (await _upload(api, user, item, "mine.txt", b"mine")).json()
    assert_error(await api.get(f"{API}/user/files/{file['id']}", headers=bearer(other_user)), 404, "file")
    assert_error(await api.delete(f"{API}/user/files/{file['id']}", headers=bearer(other_user)), 404, "file")
    assert_error(await api.get(f"{API}/user/items/{item}/files", headers=bearer(other_user)), 404, "item")
    assert_error(await _upload(api, other_user, item, "theirs.txt", b"x"), 404, "item")
    assert_error(await api.get(f"{API}/user/files/{new_id()}", headers=bearer(user)), 404, "file")
    assert_error(await api.get(f"{API}/user/files/..%2F..%2Fetc", headers=bearer(user)), 404)
    assert (await api.get(f"{API}/user/files/{file['id']}", headers=bearer(user))).content == b"mine"


async def test_scopes_apply(ctx: AppContext, api: httpx.AsyncClient, user: TestUser, item: str) -> None:
    reader = await make_token(ctx, user.id, ["items:read"])
    assert_error(await _upload(api, reader, item, "a.txt", b"a"), 403)
    file = (await _upload(api, user, item, "a.txt", b"a")).json()
    assert (await api.get(f"{API}/user/files/{file['id']}", headers=bearer(reader))).content == b"a"
    assert_error(await api.delete(f"{API}/user/files/{file['id']}", headers=bearer(reader)), 403)
    nothing = await make_token(ctx, user.id, ["profile:read"])
    assert_error(await api.get(f"{API}/user/files/{file['id']}", headers=bearer(nothing)), 403)


async def test_malformed_uploads_name_what_is_wrong(api: httpx.AsyncClient, user: TestUser, item: str) -> None:
    path = f"{API}/user/items/{item}/files"
    assert_error(await api.post(path, json={"file": "x"}, headers=bearer(user)), 415, "body")
    assert_error(await api.post(path, files={"other": ("a.txt", b"a")}, headers=bearer(user)), 400, "file")
    assert_error(await api.post(path, data={"file": "not a file"}, files={"x": ("a", b"")}, headers=bearer(user)),
                 400, "file")
    two = [("file", ("a.txt", b"a")), ("file", ("b.txt", b"b"))]
    assert_error(await api.post(path, files=two, headers=bearer(user)), 400, "file")
    assert_error(await api.post(path, files={"file": ("..", b"a")}, headers=bearer(user)), 400, "name")
    broken = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc"
    response = await api.post(path, content=broken, headers={**bearer(user),
                              "Content-Type": "multipart/form-data; boundary=xyz"})
    assert_error(response, 400, "body")
    listed = (await api.get(path, headers=bearer(user))).json()
    assert [f["name"] for f in listed] == ["a.txt"]  # the first of the two; the broken one left nothing


@pytest.fixture
async def small(ctx: AppContext, tmp_path: Path) -> AsyncIterator[tuple[AppContext, httpx.AsyncClient]]:
    """The same database, with 1,000-byte files and a 2,500-byte quota."""
    settings = make_settings(ctx.settings.database_url, tmp_path, max_file_size=1000, storage_quota=2500)
    limited = AppContext.from_settings(settings)
    transport = httpx.ASGITransport(app=create_auth_app(limited))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as client:
            yield limited, client
    finally:
        await limited.close()


async def test_limits_are_clear_errors(small: tuple[AppContext, httpx.AsyncClient]) -> None:
    limited, api = small
    user = await make_user(limited)
    item = str((await create(api, ITEMS, user))["id"])
    body = assert_error(await _upload(api, user, item, "big.bin", b"x" * 1001), 413, "file")
    assert body["data"]["file"]["code"] == "file_too_large" and "1000 bytes" in body["message"]
    declared = await api.post(f"{API}/user/items/{item}/files", headers={**bearer(user),
                              "Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(10**9)},
                              content=b"--b--\r\n")
    assert_error(declared, 413, "file")
    for n in range(2):
        assert (await _upload(api, user, item, f"{n}.bin", b"y" * 1000)).status_code == 201
    body = assert_error(await _upload(api, user, item, "over.bin", b"z" * 600), 413, "file")
    assert body["data"]["file"]["code"] == "storage_quota_exceeded"
    assert [f["name"] for f in (await api.get(f"{API}/user/items/{item}/files", headers=bearer(user))).json()] == [
        "0.bin", "1.bin"]


async def test_an_item_holds_at_most_99_files(api: httpx.AsyncClient, user: TestUser, item: str) -> None:
    for n in range(MAX_FILES_PER_ITEM):
        assert (await _upload(api, user, item, f"{n}.txt", b"n")).status_code == 201
    body = assert_error(await _upload(api, user, item, "one more.txt", b"n"), 409, "files")
    assert "99" in body["message"]


async def test_deleting_an_item_keeps_its_blobs_for_undo_and_deleting_the_account_removes_them(
    ctx: AppContext, api: httpx.AsyncClient, user: TestUser
) -> None:
    kept = str((await create(api, ITEMS, user))["id"])
    doomed = str((await create(api, ITEMS, user))["id"])
    keep = (await _upload(api, user, kept, "keep.txt", b"keep")).json()
    for name in ("a.txt", "b.txt"):
        await _upload(api, user, doomed, name, b"gone")
    async with ctx.db.session() as session:
        doomed_keys = await files.item_blob_keys(session, user.id, doomed)
    assert len(doomed_keys) == 2
    assert (await api.delete(f"{ITEMS.path}/{doomed}", headers=bearer(user))).status_code == 204
    for key in doomed_keys:  # kept while the person may undo the delete on the web
        assert b"".join([chunk async for chunk in await ctx.blobs.open(key)]) == b"gone"
    assert (await api.get(f"{API}/user/files/{keep['id']}", headers=bearer(user))).content == b"keep"

    async with ctx.db.session() as session:
        user_keys = await files.user_blob_keys(session, user.id)
        kept_keys = await files.item_blob_keys(session, user.id, kept)
        profile = await users.get_profile(session, user.id)
    assert sorted(user_keys) == sorted([*kept_keys, *doomed_keys])
    async with ctx.db.session() as session:
        removed = await users.delete_user(session, profile.email)
    assert removed == user_keys
    await files.remove_blobs(ctx.blobs, removed)
    for key in user_keys:  # the deleted item's too: nothing of the person is left
        with pytest.raises(Exception):  # noqa: B017 - BlobMissing, whatever the backend
            await ctx.blobs.open(key)
    async with ctx.db.session() as session:
        with pytest.raises(NotFoundError):
            await files.get_file(session, user.id, keep["id"])
