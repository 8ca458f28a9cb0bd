"""An item's files in the web app: upload (several at once), download, delete after a confirmation.

The item's page lists the files and holds the upload form (``files_context``). Without JavaScript
the form posts every chosen file at once (Starlette spools them to disk) and a page says what was
attached and what was not; with ``static/uploads.js`` each file (picked or dropped) is posted on
its own with a progress bar, and the answer is JSON. Either way every file streams from the post
into the blob store through ``data.files``, which owns the limits and the owner check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from axiom_mcp.data import files, records
from axiom_mcp.data.files import MAX_FILES_PER_ITEM, FileOut
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import is_record_id
from axiom_mcp.errors import AxiomError, NotFoundError
from axiom_mcp.http_common.downloads import download_response
from axiom_mcp.web.config import web_config
from axiom_mcp.web.forms import Uploads
from axiom_mcp.web.visits import Visit, signed_in

FIELD = "file"
FILES_PER_POST = 20
"""How many files one post without JavaScript may carry (the script posts them one by one)."""
SCRIPTED = "x-axiom-upload"
"""The header uploads.js sends: answer JSON instead of a page."""
_CHUNK = 64 * 1024


def _ids(request: Request, *names: str) -> list[str]:
    ids = [str(request.path_params.get(name, "")) for name in names]
    if not all(is_record_id(i) for i in ids):
        raise NotFoundError("no such file")
    return ids


async def files_context(visit: Visit, item_id: str) -> dict[str, Any]:
    """What the item's page shows of its files: the list, the limits, the person's storage."""
    async with visit.ctx.db.session() as session:
        listed = await files.list_files(session, visit.user_id, item_id)
        usage = await files.storage_usage(session, visit.ctx.settings, visit.user_id)
    return {"attachments": listed, "usage": usage, "max_file_size": visit.ctx.settings.max_file_size,
            "max_files": MAX_FILES_PER_ITEM}


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_CHUNK):
        yield chunk


async def _attach(request: Request, visit: Visit) -> Response:
    [item_id] = _ids(request, "item_id")
    ctx = visit.ctx
    uploads = [u for u in visit.form.files.get(FIELD, []) if u.filename]
    attached: list[FileOut] = []
    refused: list[tuple[str, str]] = []
    async with ctx.db.session() as session:
        item = await records.get_record(ITEMS, session, visit.user_id, item_id)  # 404 before reading any file
    for upload in uploads:
        try:
            attached.append(await files.add_file(ctx.db, ctx.blobs, ctx.settings, visit.user_id, item_id,
                                                 upload.filename or "", _chunks(upload)))
        except NotFoundError:
            raise
        except AxiomError as exc:
            refused.append((upload.filename or "", exc.message[:1].upper() + exc.message[1:] + "."))
    if not uploads:
        refused.append(("", "Choose one or more files first."))
    if request.headers.get(SCRIPTED):
        body = {"attached": [f.name for f in attached], "refused": [{"name": n, "message": m} for n, m in refused]}
        return JSONResponse(body, status_code=200 if attached or not refused else 400)
    if attached and not refused:
        return visit.redirect(f"/items/{item_id}", notice="attached",
                              named=f"“{attached[0].name}”" if len(attached) == 1 else f"{len(attached)} files")
    return visit.render("item_upload_result.html", status=400 if not attached else 200, title="Attaching files",
                        section="items", item=item, attached=attached, refused=refused)


async def attach(request: Request) -> Response:
    """POST: attach the posted files to the item (the post's cap follows the file size setting)."""
    settings = web_config(request).ctx.settings
    uploads = Uploads(max_files=FILES_PER_POST, max_bytes=FILES_PER_POST * settings.max_file_size + 1024 * 1024)
    endpoint = signed_in(uploads=uploads)(_attach)
    return await endpoint(request)  # type: ignore[no-any-return]


async def _file(visit: Visit, item_id: str, file_id: str) -> FileOut:
    async with visit.ctx.db.session() as session:
        file = await files.get_file(session, visit.user_id, file_id)
    if file.item_id != item_id:
        raise NotFoundError("no such file")
    return file


@signed_in
async def download(request: Request, visit: Visit) -> Response:
    item_id, file_id = _ids(request, "item_id", "file_id")
    await _file(visit, item_id, file_id)
    return await download_response(request, visit.ctx.db, visit.ctx.blobs, visit.user_id, file_id)


@signed_in
async def delete(request: Request, visit: Visit) -> Response:
    item_id, file_id = _ids(request, "item_id", "file_id")
    file = await _file(visit, item_id, file_id)
    if request.method == "GET":
        return visit.render("item_file_delete.html", title="Delete file", section="items", file=file)
    await files.delete_file(visit.ctx.db, visit.ctx.blobs, visit.user_id, file_id)
    return visit.redirect(f"/items/{item_id}", notice="file_deleted", named=file.name)


routes = [
    Route("/items/{item_id}/files", attach, methods=["POST"], name="item_files_attach"),
    Route("/items/{item_id}/files/{file_id}", download, methods=["GET"], name="item_file"),
    Route("/items/{item_id}/files/{file_id}/delete", delete, methods=["GET", "POST"], name="item_file_delete"),
]
