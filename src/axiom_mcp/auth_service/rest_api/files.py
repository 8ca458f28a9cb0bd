"""REST routes of files attached to items: upload (multipart, streamed), list, download, delete.

An upload is one file per request, in a part named ``file``; its bytes go to the blob store as
they arrive (``http_common.multipart``), so the API's body cap does not apply to this route
(``is_file_upload``) and the file's own limits are the ones enforced, with errors naming ``file``.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.requests import ClientDisconnect

from axiom_mcp.auth_service.rest_api.errors import UnsupportedMediaType
from axiom_mcp.context import AppContext
from axiom_mcp.data import files
from axiom_mcp.data.files import FileOut, FileTooLarge
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import is_record_id
from axiom_mcp.data.tokens import TokenInfo
from axiom_mcp.errors import NotFoundError, ValidationFailed
from axiom_mcp.http_common.downloads import download_response
from axiom_mcp.http_common.multipart import MAX_FIELD_BYTES, MalformedMultipart, MultipartReader
from axiom_mcp.auth_service.rest_api.auth import require_scope

FIELD = "file"
_UPLOAD_PATH = re.compile(r"^/api/v1/user/items/[^/]+/files/?$")


UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FIELD],
    "properties": {FIELD: {"type": "string", "format": "binary", "description": "The file; its part's filename is its name."}},
}}}}}
"""The body as OpenAPI describes it (the route reads the stream itself, so FastAPI cannot infer it)."""


def is_file_upload(method: str, path: str) -> bool:
    """Whether a request is a file upload (its body is limited by the file's limits, not the API's cap)."""
    return method == "POST" and _UPLOAD_PATH.match(path) is not None


def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def _item_id(item_id: str) -> str:
    if not is_record_id(item_id):
        raise NotFoundError("item not found", field="item")
    return item_id


def _file_id(file_id: str) -> str:
    if not is_record_id(file_id):
        raise NotFoundError("file not found", field="file")
    return file_id


async def _upload(ctx: AppContext, request: Request, user_id: str, item_id: str) -> FileOut:
    settings = ctx.settings
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_file_size + MAX_FIELD_BYTES + 64 * 1024:
        raise FileTooLarge(f"the file is larger than {settings.max_file_size} bytes", field=FIELD)
    try:
        reader = MultipartReader(request.stream(), request.headers.get("content-type", ""))
    except MalformedMultipart as exc:
        raise UnsupportedMediaType(f"Send the file as multipart/form-data in a part named {FIELD!r} ({exc}).",
                                   field="body") from exc
    stored: FileOut | None = None
    try:
        async for part in reader.files():
            if part.field != FIELD:
                continue
            if stored is not None:
                raise ValidationFailed("send one file per request", field=FIELD)
            stored = await files.add_file(ctx.db, ctx.blobs, settings, user_id, item_id, part.filename, part.chunks)
    except MalformedMultipart as exc:
        raise ValidationFailed(f"the multipart body cannot be read: {exc}", field="body") from exc
    except ClientDisconnect:  # nothing was kept; nobody is left to read the answer
        raise ValidationFailed("the upload was cut off before its end", field=FIELD) from None
    if stored is None:
        raise ValidationFailed(f"no file: send it in a multipart part named {FIELD!r}", field=FIELD)
    return stored


def build_files_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["files"])
    read = Depends(require_scope(ITEMS.read_scope))
    write = Depends(require_scope(ITEMS.write_scope))

    @router.post("/user/items/{item_id}/files", response_model=FileOut, status_code=201,
                 summary="Attach a file to an item (multipart/form-data, part `file`)", openapi_extra=UPLOAD_BODY)
    async def upload(request: Request, item_id: str, token: TokenInfo = write) -> Any:
        return await _upload(_ctx(request), request, token.user_id, _item_id(item_id))

    @router.get("/user/items/{item_id}/files", response_model=list[FileOut],
                summary="List an item's files, oldest first")
    async def list_files(request: Request, item_id: str, token: TokenInfo = read) -> Any:
        async with _ctx(request).db.session() as session:
            return await files.list_files(session, token.user_id, _item_id(item_id))

    @router.get("/user/files/{file_id}", summary="Download a file (images and PDFs inline, the rest as attachment)",
                response_class=Response)
    async def download(request: Request, file_id: str, token: TokenInfo = read) -> Response:
        ctx = _ctx(request)
        return await download_response(request, ctx.db, ctx.blobs, token.user_id, _file_id(file_id))

    @router.delete("/user/files/{file_id}", status_code=204, summary="Delete a file")
    async def delete(request: Request, file_id: str, token: TokenInfo = write) -> Response:
        ctx = _ctx(request)
        await files.delete_file(ctx.db, ctx.blobs, token.user_id, _file_id(file_id))
        return Response(status_code=204)

    return router
