"""Profile pictures: checked from their bytes, resized, re-encoded as PNG; anything else refused."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import select

from axiom_mcp.context import AppContext
from axiom_mcp.data import avatars, users
from axiom_mcp.errors import ValidationFailed
from tests.support.factories import TestUser


def _image(fmt: str, size: tuple[int, int], **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt, **save)
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
async def test_a_picture_is_stored_resized_as_png(ctx: AppContext, user: TestUser, fmt: str) -> None:
    async with ctx.db.session() as session:
        await avatars.set_avatar(session, user.id, _image(fmt, (1200, 600)))
    async with ctx.db.session() as session:
        picture = await avatars.get_avatar(session, user.id)
        profile = await users.get_profile(session, user.id)
    assert picture is not None and picture.content_type == "image/png"
    with Image.open(io.BytesIO(picture.data)) as stored:
        assert stored.format == "PNG" and stored.size == (256, 128)
    assert profile.avatar.startswith("avatar_") and profile.avatar.endswith(".png")


async def test_the_cameras_orientation_is_applied(ctx: AppContext, user: TestUser) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    async with ctx.db.session() as session:
        await avatars.set_avatar(session, user.id, _image("JPEG", (400, 200), exif=exif.tobytes()))
        picture = await avatars.get_avatar(session, user.id)
    assert picture is not None
    with Image.open(io.BytesIO(picture.data)) as stored:
        assert stored.size == (128, 256)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(b"", "choose a picture", id="empty"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a picture", id="svg"),
        pytest.param(b"%PDF-1.7 not an image", "not a picture", id="pdf"),
        pytest.param(_png_claiming(100_000, 100_000), "too large", id="decompression-bomb"),
        pytest.param(b"\xff\xd8\xff" + b"\0" * (avatars.MAX_UPLOAD_BYTES), "larger than 5 MiB", id="over-5-MiB"),
        pytest.param(_image("PNG", (64, 64))[:40], "not a picture", id="truncated"),
    ],
)
async def test_anything_but_a_readable_picture_is_refused_and_nothing_changes(
    ctx: AppContext, user: TestUser, raw: bytes, message: str
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        async with ctx.db.session() as session:
            await avatars.set_avatar(session, user.id, raw)
    assert failure.value.field == "avatar" and message in failure.value.message
    async with ctx.db.session() as session:
        assert await avatars.get_avatar(session, user.id) is None
        assert (await users.get_profile(session, user.id)).avatar == ""


async def test_remove_and_account_deletion_take_the_picture_away(ctx: AppContext, user: TestUser) -> None:
    from axiom_mcp.db.tables import Avatar

    async with ctx.db.session() as session:
        await avatars.set_avatar(session, user.id, _image("PNG", (10, 10)))
        await avatars.remove_avatar(session, user.id)
        assert await avatars.get_avatar(session, user.id) is None
        assert (await users.get_profile(session, user.id)).avatar == ""
        await avatars.set_avatar(session, user.id, _image("PNG", (10, 10)))
        await users.delete_user(session, user.email)
        assert await session.scalar(select(Avatar).where(Avatar.user_id == user.id)) is None
