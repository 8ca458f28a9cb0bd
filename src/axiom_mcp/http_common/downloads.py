"""Answering a download of an attached file, the same on the REST API and in the web app.

Images and PDFs are shown inline, everything else is an attachment; either way under a CSP that
allows nothing and sandboxes the document, with ``nosniff``, so a file can never run as part of
Axiom's origin. The bytes stream from the blob store; a single ``Range`` is honoured.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import StreamingResponse

from axiom_mcp.blobs.store import BlobStore
from axiom_mcp.data.files import FileOut, RangeNotSatisfiable, get_file, open_file
from axiom_mcp.db.engine import Database

DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def shown_inline(content_type: str) -> bool:
    """Images and PDFs open in the browser; the rest is saved (SVG is stored as text, never an image)."""
    return content_type.startswith("image/") or content_type == "application/pdf"


def disposition(file: FileOut) -> str:
    """RFC 6266: an ASCII fallback name and the exact name in UTF-8."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file.name)
    kind = "inline" if shown_inline(file.content_type) else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file.name, safe='')}"


def _range(header: str | None, size: int) -> tuple[int, int | None] | None:
    """(start, end exclusive) of a single ``bytes=`` range, None to send the whole file."""
    match = _RANGE.match((header or "").strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None  # no range, or one we do not serve (several): the whole file, as RFC 9110 allows
    first, last = match.groups()
    if first == "":  # the last N bytes
        if int(last) == 0:
            raise RangeNotSatisfiable(f"the file has {size} bytes", field="range")
        return max(size - int(last), 0), None
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable(f"the file has {size} bytes", field="range")
    return start, None if last == "" else min(int(last) + 1, size)


async def download_response(request: Request, db: Database, blobs: BlobStore, user_id: str, file_id: str) -> StreamingResponse:
    """The file's bytes (or the range asked for) with headers that keep them inert."""
    async with db.session() as session:
        wanted = request.headers.get("range")
        bounds = _range(wanted, (await get_file(session, user_id, file_id)).size) if wanted else None
        download = await open_file(session, blobs, user_id, file_id, *(bounds or (0, None)))
    file = download.file
    headers = {
        "Content-Disposition": disposition(file),
        "Content-Security-Policy": DOWNLOAD_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
        "Accept-Ranges": "bytes",
        "Content-Length": str(download.end - download.start),
        "ETag": f'"{file.sha256}"',
    }
    status = 200
    if bounds is not None:
        status = 206
        headers["Content-Range"] = f"bytes {download.start}-{download.end - 1}/{file.size}"
    return StreamingResponse(download.chunks, status_code=status, headers=headers, media_type=file.content_type)
