"""Profile pictures: an uploaded image checked from its bytes, resized and re-encoded, or removed.

Re-encoding is the safety: whatever the upload held (metadata, a second image, a polyglot file),
what is stored and served is a plain PNG that Pillow drew from the decoded pixels.
"""

from __future__ import annotations

import asyncio
import io
from struct import error as struct_error
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.db.tables import Avatar, User
from axiom_mcp.errors import ValidationFailed
from axiom_mcp.ids import utcnow

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
SIZE = 256
"""The stored picture fits in SIZE x SIZE pixels."""
MAX_PIXELS = 40_000_000
"""Larger images are refused before decoding (a small file can claim a huge picture)."""
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")


@dataclass(frozen=True)
class Picture:
    content_type: str
    data: bytes
    updated: datetime


def _too_large(width: int, height: int) -> ValidationFailed:
    return ValidationFailed(f"the picture is too large ({width}x{height} pixels)", field="avatar")


def _resized_png(raw: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(raw), formats=FORMATS) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _too_large(width, height)
            image.load()
            upright = ImageOps.exif_transpose(image)  # as the camera held it
    except Image.DecompressionBombError:
        raise ValidationFailed("the picture is too large", field="avatar") from None
    except (UnidentifiedImageError, OSError, SyntaxError, struct_error):
        raise ValidationFailed("not a picture Axiom can read (PNG, JPEG, GIF or WebP)", field="avatar") from None
    upright.thumbnail((SIZE, SIZE))
    out = io.BytesIO()
    upright.convert("RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") else "RGB").save(out, "PNG", optimize=True)
    return out.getvalue()


async def set_avatar(session: AsyncSession, user_id: str, raw: bytes) -> None:
    """Store ``raw`` (an uploaded image) as the person's picture; ValidationFailed if it is not one."""
    if not raw:
        raise ValidationFailed("choose a picture to upload", field="avatar")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB", field="avatar")
    png = await asyncio.to_thread(_resized_png, raw)
    now = utcnow()
    await session.execute(delete(Avatar).where(Avatar.user_id == user_id))
    await session.execute(insert(Avatar).values(user_id=user_id, content_type="image/png", data=png, updated=now))
    await session.execute(update(User).where(User.id == user_id).values(avatar=f"avatar_{now:%Y%m%d%H%M%S%f}.png", updated=now))


async def get_avatar(session: AsyncSession, user_id: str) -> Picture | None:
    row = await session.scalar(select(Avatar).where(Avatar.user_id == user_id))
    return None if row is None else Picture(row.content_type, row.data, row.updated)


async def remove_avatar(session: AsyncSession, user_id: str) -> None:
    await session.execute(delete(Avatar).where(Avatar.user_id == user_id))
    await session.execute(update(User).where(User.id == user_id).values(avatar="", updated=utcnow()))
