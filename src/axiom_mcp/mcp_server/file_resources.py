"""Attached files as MCP resources (``file_tools.FILE_URI``), behind ``items:read``.

``resources/list`` pages through the caller's files (newest first), ``resources/templates/list``
names the template, and ``resources/read`` gives a file as text (text files), as a blob (images),
or, for any other type and anything over ``MAX_INLINE`` bytes, as a short text with the file's
metadata and a link to it in the web app (a model cannot use a PDF's or a zip's raw bytes).

The SDK's resource manager serves resources fixed at start-up; these belong to whoever calls, so
``AxiomServer`` answers the three methods itself with the caller's verified token
(``tool_calls.caller``) and its connection's view (``data.access``: a connection restricted to a client
profile sees only the files of that profile's items), through the same data layer as the REST API:
another person's file is "not found", like one that never existed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    ListToolsResult,
    INVALID_REQUEST,
    ListResourcesResult,
    ListResourceTemplatesResult,
    PaginatedRequestParams,
    Resource,
    ResourceTemplate,
)

from axiom_mcp.context import AppContext
from axiom_mcp.data import files
from axiom_mcp.data.access import connection_view
from axiom_mcp.data.files import FileOut
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.errors import NotFoundError
from axiom_mcp.data.tokens import TokenInfo
from axiom_mcp.mcp_server.auth import McpUser
from axiom_mcp.mcp_server.file_tools import FILE_URI, file_uri
from axiom_mcp.mcp_server.tool_calls import AxiomTool, caller

_URI = re.compile(r"^axiom://items/([a-z0-9]{1,64})/files/([a-z0-9]{1,64})$")
PAGE_SIZE = 100
MAX_INLINE = 5 * 1024 * 1024
"""The largest text or image ``resources/read`` returns itself; larger ones come as a link."""

TEMPLATE = ResourceTemplate(
    uri_template=FILE_URI,
    name="item_file",
    title="A file attached to an item",
    description="A file attached to one of your items (ids from get_user_item's attachedFiles). Text files "
    "read as text, images as image data; other types, and files over 5 MiB, as their metadata and a link.",
)


def _readable(file: FileOut) -> bool:
    return file.size <= MAX_INLINE and (file.content_type == files.TEXT or file.content_type.startswith("image/"))


def web_link(app: AppContext, file: FileOut) -> str:
    """Where a person opens the file (signed in to the web app)."""
    return f"{app.settings.web_url}/items/{file.item_id}/files/{file.id}"


def resource_of(file: FileOut) -> Resource:
    return Resource(uri=file_uri(file), name=file.name, title=file.name, mime_type=file.content_type,
                    size=file.size, description=f"Attached to item {file.item_id}, added {file.created:%Y-%m-%d}.")


class AxiomServer(MCPServer):
    """The SDK server, serving each caller's files as resources and listing to each connection only
    the tools its view allows.

    The SDK lists every registered tool to everyone; ``tools/list`` is answered here instead,
    through ``AxiomTool.listed_for`` with the caller's view (``data.access``), so a connection
    restricted to a client profile is not offered the client-profile tools (calling one anyway is
    refused by the data layer). The SDK binds its handlers to ``self`` in ``__init__``, so these
    overrides are what it calls.
    """

    def __init__(self, app: AppContext, tools: list[AxiomTool], **settings: Any) -> None:
        self.app = app
        self._axiom_tools = {tool.name: tool for tool in tools}
        super().__init__(tools=tools, **settings)

    async def _handle_list_tools(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        listed = await self.list_tools()
        request = ctx.request
        user = getattr(request, "scope", {}).get("user") if request is not None else None
        if not isinstance(user, McpUser):  # every endpoint sits behind BearerAuth; nothing to narrow
            return ListToolsResult(tools=listed)
        view = await self.app.views.of(user.info.user_id, user.info.client_id)
        return ListToolsResult(tools=[t for t in listed if self._axiom_tools[t.name].listed_for(view)])

    def _caller(self, context: Context) -> TokenInfo:
        try:
            return caller(context, ITEMS.read_scope)
        except ToolError as exc:  # no token, or no items:read
            raise MCPError(code=INVALID_REQUEST, message=str(exc)) from exc

    async def _handle_list_resources(self, ctx: Any, params: PaginatedRequestParams | None) -> ListResourcesResult:
        token = self._caller(Context(request_context=ctx, mcp_server=self))
        cursor = params.cursor if params is not None else None
        offset = int(cursor) if cursor and cursor.isdigit() and len(cursor) < 10 else 0
        async with self.app.db.session() as session:
            view = await connection_view(session, token.user_id, token.client_id)
            found = await files.list_user_files(session, token.user_id, offset=offset, limit=PAGE_SIZE + 1, view=view)
        more = str(offset + PAGE_SIZE) if len(found) > PAGE_SIZE else None
        return ListResourcesResult(resources=[resource_of(f) for f in found[:PAGE_SIZE]], next_cursor=more)

    async def _handle_list_resource_templates(
        self, ctx: Any, params: PaginatedRequestParams | None
    ) -> ListResourceTemplatesResult:
        return ListResourceTemplatesResult(resource_templates=[TEMPLATE])

    async def read_resource(self, uri: Any, context: Context | None = None) -> Iterable[ReadResourceContents]:
        if context is None:
            raise MCPError(code=INVALID_REQUEST, message="This call carries no verified access token.")
        token = self._caller(context)
        user_id = token.user_id
        match = _URI.match(str(uri))
        if match is None:
            raise ResourceNotFoundError(f"Unknown resource {str(uri)[:200]!r}: files are {FILE_URI}.")
        item_id, file_id = match.groups()
        missing = ResourceNotFoundError(
            f"No file {file_id!r} on item {item_id!r} among yours. get_user_item lists an item's files."
        )
        try:
            async with self.app.db.session() as session:
                view = await connection_view(session, user_id, token.client_id)
                file = await files.get_file(session, user_id, file_id, view)
                if file.item_id != item_id:
                    raise missing
                if not _readable(file):
                    return [self._link(file)]
                download = await files.open_file(session, self.app.blobs, user_id, file_id)
        except NotFoundError:
            raise missing from None
        data = b"".join([chunk async for chunk in download.chunks])
        meta = {"name": file.name, "size": file.size, "created": file.created.isoformat()}
        if file.content_type == files.TEXT:
            return [ReadResourceContents(data.decode("utf-8", "replace"), "text/plain", meta)]
        return [ReadResourceContents(data, file.content_type, meta)]

    def _link(self, file: FileOut) -> ReadResourceContents:
        link = web_link(self.app, file)
        why = "too large to read here" if file.size > MAX_INLINE else "not text or an image"
        text = (f"{file.name}: {file.content_type}, {file.size} bytes, added {file.created:%Y-%m-%d %H:%M} UTC; "
                f"{why}. The person can open it at {link}")
        meta = {"name": file.name, "size": file.size, "contentType": file.content_type,
                "created": file.created.isoformat(), "sha256": file.sha256, "link": link}
        return ReadResourceContents(text, "text/plain", meta)
