"""An item's files in the web app without JavaScript (the plain multipart form), on SQLite and
PostgreSQL: several files in one post, the list, downloads, delete after a confirmation, the
limits as messages, other people's files, the account's storage usage, blobs of a deleted item."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import files, records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import ItemCreate
from axiom_mcp.web.app import create_web_app
from tests.conftest import make_settings
from tests.support.factories import TestUser, end_undo_windows, make_user
from tests.web.helpers import csrf_of, own_address, sign_in_directly, submit

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


async def _item(ctx: AppContext, user_id: str, name: str = "Trip") -> str:
    async with ctx.db.session() as session:
        return str((await records.create_record(ITEMS, session, user_id, ItemCreate(name=name))).id)


async def _post(client: httpx.AsyncClient, item_id: str, *chosen: tuple[str, bytes], **headers: str) -> httpx.Response:
    token = csrf_of(await client.get(f"/items/{item_id}"))
    return await client.post(f"/items/{item_id}/files", data={"csrf_token": token}, headers=headers,
                             files=[("file", (name, data, "application/octet-stream")) for name, data in chosen])


async def test_several_files_at_once_listed_downloaded_and_deleted_after_confirming(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    item = await _item(ctx, user.id)
    page = await signed_in.get(f"/items/{item}")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and "No files yet." in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy  # uploads.js, posting here only
    assert "/static/uploads.js" in page.text

    done = await _post(signed_in, item, ("notes.txt", b"hello"), ("pixel.png", PNG))
    assert done.status_code == 303 and done.headers["location"].startswith(f"/items/{item}?notice=attached&named=2+files")
    page = await signed_in.get(f"/items/{item}")
    for shown in ("notes.txt", "5 bytes", "text/plain", "pixel.png", "image/png"):
        assert shown in page.text
    async with ctx.db.session() as session:
        notes, pixel = await files.list_files(session, user.id, item)

    got = await signed_in.get(f"/items/{item}/files/{notes.id}")
    assert got.status_code == 200 and got.content == b"hello"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox; frame-ancestors 'none'"
    image = await signed_in.get(f"/items/{item}/files/{pixel.id}")
    assert image.content == PNG and image.headers["content-disposition"].startswith("inline;")

    confirm = await signed_in.get(f"/items/{item}/files/{notes.id}/delete")
    assert confirm.status_code == 200 and "Delete this file?" in confirm.text and "notes.txt" in confirm.text
    assert (await signed_in.get(f"/items/{item}/files/{notes.id}")).status_code == 200  # asking deleted nothing
    gone = await signed_in.post(f"/items/{item}/files/{notes.id}/delete", data={"csrf_token": csrf_of(confirm)})
    assert gone.status_code == 303 and gone.headers["location"].startswith(f"/items/{item}?notice=file_deleted&named=")
    assert "Deleted the file “notes.txt”." in (await signed_in.get(gone.headers["location"])).text
    assert (await signed_in.get(f"/items/{item}/files/{notes.id}")).status_code == 404
    forged = await signed_in.post(f"/items/{item}/files/{pixel.id}/delete", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert (await signed_in.get(f"/items/{item}/files/{pixel.id}")).status_code == 200


async def test_the_script_gets_json(ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser) -> None:
    item = await _item(ctx, user.id)
    done = await _post(signed_in, item, ("a.txt", b"a"), **{"X-Axiom-Upload": "1"})
    assert done.status_code == 200 and done.json() == {"attached": ["a.txt"], "refused": []}
    refused = await _post(signed_in, item, ("..", b"a"), **{"X-Axiom-Upload": "1"})
    assert refused.status_code == 400 and refused.json()["refused"][0]["message"].startswith("The file needs a name")


async def test_another_persons_item_and_files_are_not_found(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    stranger = await make_user(ctx, name="Eve")
    theirs = await _item(ctx, stranger.id)

    async def one() -> AsyncIterator[bytes]:
        yield b"private"

    secret = await files.add_file(ctx.db, ctx.blobs, ctx.settings, stranger.id, theirs, "s.txt", one())
    mine = await _item(ctx, user.id)
    assert (await signed_in.get(f"/items/{theirs}/files/{secret.id}")).status_code == 404
    assert (await signed_in.get(f"/items/{mine}/files/{secret.id}")).status_code == 404
    assert (await signed_in.get(f"/items/{theirs}/files/{secret.id}/delete")).status_code == 404
    token = csrf_of(await signed_in.get(f"/items/{mine}"))
    posted = await signed_in.post(f"/items/{theirs}/files", data={"csrf_token": token},
                                  files={"file": ("x.txt", b"x", "text/plain")})
    assert posted.status_code == 404
    async with ctx.db.session() as session:
        assert [f.name for f in await files.list_files(session, stranger.id, theirs)] == ["s.txt"]


@pytest.fixture
async def small(ctx: AppContext, tmp_path: Path) -> AsyncIterator[tuple[AppContext, httpx.AsyncClient, str]]:
    """The web app on the same database with 1,000-byte files and a 2,500-byte quota, signed in."""
    limited = AppContext.from_settings(make_settings(ctx.settings.database_url, tmp_path, max_file_size=1000,
                                                     storage_quota=2500))
    user = await make_user(limited)
    transport = httpx.ASGITransport(app=create_web_app(limited), client=(own_address(), 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=limited.settings.web_url) as client:
            await sign_in_directly(limited, client, user.id)
            yield limited, client, user.id
    finally:
        await limited.close()


async def test_limits_say_which_file_and_why(small: tuple[AppContext, httpx.AsyncClient, str]) -> None:
    limited, client, user_id = small
    item = await _item(limited, user_id)
    page = await client.get(f"/items/{item}")
    assert "Up to 1000 bytes each and 99 per item" in page.text and "0 bytes of your 2.4 KB" in page.text
    result = await _post(client, item, ("ok.txt", b"o" * 1000), ("big.txt", b"b" * 1001), ("fits.txt", b"f" * 1000),
                         ("over.txt", b"x" * 600))
    assert result.status_code == 200
    assert "Some files were not attached" in result.text
    assert "<strong>big.txt</strong>: The file is larger than 1000 bytes." in result.text
    assert "<strong>over.txt</strong>: The file does not fit in your storage" in result.text
    async with limited.db.session() as session:
        assert [f.name for f in await files.list_files(session, user_id, item)] == ["ok.txt", "fits.txt"]
    nothing = await _post(client, item)
    assert nothing.status_code == 400 and "Choose one or more files first." in nothing.text
    account = await client.get("/account")
    assert "2000 bytes" not in account.text and "2 KB of 2.4 KB used (2 files)" in account.text


async def test_the_account_page_shows_storage_used(ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser) -> None:
    assert "0 bytes of 1 GB used (0 files)" in (await signed_in.get("/account")).text
    item = await _item(ctx, user.id)
    await _post(signed_in, item, ("a.bin", b"\x00" * 1536))
    assert "1.5 KB of 1 GB used (1 file)" in (await signed_in.get("/account")).text


async def test_deleting_the_item_keeps_its_blobs_until_the_undo_window_ends(
    ctx: AppContext, signed_in: httpx.AsyncClient, user: TestUser
) -> None:
    item = await _item(ctx, user.id)
    await _post(signed_in, item, ("a.txt", b"a"), ("b.txt", b"b"))
    async with ctx.db.session() as session:
        keys = await files.item_blob_keys(session, user.id, item)
    assert len(keys) == 2
    done = await submit(signed_in, f"/items/{item}/delete")
    assert done.status_code == 303
    for key in keys:  # an undo brings them back
        assert b"".join([chunk async for chunk in await ctx.blobs.open(key)]) in (b"a", b"b")
    await end_undo_windows(ctx)
    for key in keys:
        with pytest.raises(Exception):  # noqa: B017 - BlobMissing
            await ctx.blobs.open(key)
