"""Files through MCP tools: attaching a small file to an item (base64) and removing one.

An item's files are listed by get_user_item (``ItemWithFiles``) and read as resources at
``FILE_URI`` (``file_resources``)."""

import base64
import binascii
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from axiom_mcp.context import AppContext
from axiom_mcp.data import files, records
from axiom_mcp.data.files import FileOut
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import ItemOut
from axiom_mcp.errors import AxiomError
from axiom_mcp.mcp_server.tool_calls import Deleted, RecordIdArg, ToolSpec, tool_failure, view_of, writes


FILE_URI = "axiom://items/{item_id}/files/{file_id}"
"""Where a file attached to an item is an MCP resource (``file_resources``)."""
MAX_TOOL_FILE = 2 * 1024 * 1024
"""The largest file ``add_user_item_file`` takes: as base64 in JSON it stays under the 4 MiB an MCP request may carry."""


def file_uri(file: FileOut) -> str:
    return FILE_URI.format(item_id=file.item_id, file_id=file.id)


class AttachedFile(FileOut):
    """A file attached to an item, with the resource URI it is read at."""

    uri: str = Field(description="Read the file with resources/read at this URI.")


class ItemWithFiles(ItemOut):
    """What get_user_item returns: the item and its attached files (``files`` is the older list of names)."""

    attachedFiles: list[AttachedFile]  # noqa: N815 - the API's camelCase


def attached(file: FileOut) -> AttachedFile:
    return AttachedFile(**file.model_dump(), uri=file_uri(file))


FileNameArg = Annotated[str, Field(min_length=1, max_length=255, description="The file's name, with its extension.")]
Base64Arg = Annotated[str, Field(
    min_length=0, max_length=4 * -(-MAX_TOOL_FILE // 3) + 4,
    description=f"The file's bytes in base64 (standard alphabet); at most {MAX_TOOL_FILE // (1024 * 1024)} MiB "
    "of file. Larger files: the web app or the REST API.",
)]


def file_tools(app: AppContext) -> list[ToolSpec]:
    """Attaching a small file to an item, and removing one (an item's files: get_user_item)."""

    async def add_user_item_file(ctx: Context, item_id: RecordIdArg, name: FileNameArg,
                                 content_base64: Base64Arg) -> AttachedFile:
        view = await view_of(app, ctx)
        user_id = view.user_id
        try:
            async with app.db.session() as session:  # only to an item this connection sees
                await records.get_record(ITEMS, session, view, item_id)
        except AxiomError as exc:
            raise tool_failure(exc, ITEMS) from exc
        try:
            data = base64.b64decode(content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ToolError("Invalid 'content_base64': it is not base64 (standard alphabet, with padding).") from None
        if len(data) > MAX_TOOL_FILE:
            raise ToolError(f"The file has {len(data)} bytes; a tool call takes at most {MAX_TOOL_FILE}. "
                            "Attach larger files in the web app or through the REST API.")

        async def chunks() -> Any:
            yield data

        try:
            stored = await files.add_file(app.db, app.blobs, app.settings, user_id, item_id, name, chunks())
        except AxiomError as exc:
            raise tool_failure(exc, ITEMS) from exc
        return attached(stored)

    async def delete_user_item_file(ctx: Context, id: RecordIdArg) -> Deleted:  # noqa: A002
        view = await view_of(app, ctx)
        try:
            async with app.db.session() as session:  # only a file of an item this connection sees
                await files.get_file(session, view.user_id, id, view)
            await files.delete_file(app.db, app.blobs, view.user_id, id)
        except AxiomError as exc:
            raise ToolError(f"{exc.message}: no such file among yours. get_user_item lists an item's files.") from exc
        return Deleted(id=id)

    write = ITEMS.write_scope
    return [
        ToolSpec(
            add_user_item_file, "add_user_item_file", "Attach a file to an item", write,
            "Attach a small file to one of the user's items: its name and its bytes in base64 (at most "
            f"{MAX_TOOL_FILE // (1024 * 1024)} MiB). Its type is read from the bytes. An item holds at most 99 "
            "files and the user's storage has a quota; the error says which limit was reached. Returns the file "
            "with the `uri` to read it at.",
            writes("Attach a file to an item", destructive=False, idempotent=False), ITEMS,
        ),
        ToolSpec(
            delete_user_item_file, "delete_user_item_file", "Remove a file from an item", write,
            "Delete one of the files attached to the user's items, by its id (from get_user_item's "
            "`attachedFiles`). This cannot be undone.",
            writes("Remove a file from an item", destructive=True, idempotent=True), ITEMS,
        ),
    ]
