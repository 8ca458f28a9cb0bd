"""The MCP tools: the caller's profile, items, clients and tags, each behind its OAuth scope.

Every tool takes the caller from the verified token of the HTTP request that carried the call
(``auth.BearerAuth`` put it there), checks the tool's scope before anything else
(``AxiomTool.run``; the scope is declared beside the tool in ``tool_specs``), and calls the same data layer as
the REST API with the token's user id, so ownership is decided in one place
(``axiom_mcp.data``): another user's id is "not found", exactly like an id that never existed.

Failures the caller can fix are tool errors (results with ``isError``) whose text says what was
wrong, because a model reads them: an unknown id, a missing or invalid argument, an unknown
argument, a missing scope. One database session per call.

(No ``from __future__ import annotations`` here: the per-kind tools are built in a factory, and
the SDK reads their annotations with ``get_type_hints``, which cannot see a factory's locals in
string annotations.)
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError
import pydantic_core
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.context import AppContext
from axiom_mcp.data import records, users
from axiom_mcp.data.schemas import (
    MAX_PER_PAGE,
    MAX_TAGS,
    ClientCreate,
    ClientOut,
    ClientUpdate,
    ItemCreate,
    ItemOut,
    ItemUpdate,
    Page,
    PageQuery,
    ProfileOut,
    TagCreate,
    TagOut,
    TagUpdate,
)
from axiom_mcp.data.tokens import TokenInfo
from axiom_mcp.db.engine import Database
from axiom_mcp.db.tables import CONTENT_MAX, NAME_MAX
from axiom_mcp.errors import AxiomError, NotFoundError, ValidationFailed
from axiom_mcp.ids import ID_LENGTH
from axiom_mcp.mcp_server.auth import McpUser


class Deleted(BaseModel):
    """What a delete tool returns."""

    id: str
    deleted: bool = True


# --- arguments ----------------------------------------------------------------------------------

RecordIdArg = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description=f"The record's id: {ID_LENGTH} lowercase letters and digits, as returned by the list tools.",
    ),
]
PageArg = Annotated[int, Field(ge=1, le=1_000_000, description="Page number, starting at 1.")]
PerPageArg = Annotated[
    int, Field(ge=1, le=MAX_PER_PAGE, description=f"Records per page, 1 to {MAX_PER_PAGE} (default 30).")
]
SearchArg = Annotated[
    str, Field(max_length=200, description="Only records whose text contains this (case-insensitive); empty for all.")
]
NameArg = Annotated[str, Field(min_length=1, max_length=NAME_MAX, description="The name (1 to 255 characters).")]
TagIdsArg = Annotated[
    list[str],
    Field(
        max_length=MAX_TAGS,
        description="Ids of your tags (see get_user_tags); an id that is not one of your tags is refused.",
    ),
]


# --- errors -------------------------------------------------------------------------------------


def describe_validation_error(exc: ValidationError, renamed: dict[str, str] | None = None) -> str:
    """Pydantic's errors in words a model can act on: which argument, what is wrong with it.

    ``renamed`` maps a data-layer field to the tool argument it came from (``q`` is ``search``).
    """
    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in err["loc"]]
        if loc and renamed:
            loc[0] = renamed.get(loc[0], loc[0])
        where = ".".join(loc) or "arguments"
        if err["type"] == "missing":
            problems.append(f"{where!r} is required")
        elif err["type"] == "extra_forbidden":
            problems.append(f"{where!r} is not an argument of this tool")
        else:
            problems.append(f"{where!r}: {err['msg']}")
    return "Invalid arguments: " + "; ".join(problems) + "."


def _failure(exc: AxiomError, plural: str) -> ToolError:
    if isinstance(exc, NotFoundError):
        return ToolError(
            f"{exc.message}: no such {plural[:-1]} among yours. Use get_user_{plural} to find the ids of your {plural}."
        )
    if isinstance(exc, ValidationFailed) and exc.field:
        return ToolError(f"Invalid {exc.field!r}: {exc.message}.")
    return ToolError(exc.message)


def _build(schema: type[BaseModel], renamed: dict[str, str] | None = None, **values: Any) -> Any:
    """The data layer's input model, or a tool error naming what is wrong (say a NUL in a name)."""
    try:
        return schema(**values)
    except ValidationError as exc:
        raise ToolError(describe_validation_error(exc, renamed)) from exc


class AxiomTool(Tool):
    """A tool that checks its scope, refuses unknown arguments, and words argument errors well.

    The scope is checked before anything else. The SDK reports a failed argument validation as
    pydantic's text and silently drops arguments a tool does not take (a misspelt ``serach``
    would list everything); both become a short message naming the argument.
    """

    scope: str = ""
    """The OAuth scope a call needs (set by ``build_tools``)."""

    @cached_property
    def argument_names(self) -> frozenset[str]:
        fields = self.fn_metadata.arg_model.model_fields
        return frozenset(field.alias or name for name, field in fields.items())

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        try:
            caller(context, self.scope)  # first: without the scope, nothing else about the call matters
        except ToolError as exc:
            raise ToolError(f"Error executing tool {self.name}: {exc}") from exc
        unknown = sorted(arguments.keys() - self.argument_names)
        if unknown:
            takes = ", ".join(sorted(self.argument_names)) or "no arguments"
            raise ToolError(
                f"Error executing tool {self.name}: unknown argument(s) {', '.join(map(repr, unknown))}; "
                f"it takes: {takes}."
            )
        try:
            result = await super().run(arguments, context, convert_result=False)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(f"Error executing tool {self.name}: {describe_validation_error(exc.__cause__)}") from (
                    exc.__cause__
                )
            raise
        return self._content(result) if convert_result else result

    def _content(self, result: Any) -> Any:
        """The result as MCP content: structured, and the same JSON as text, from one dump.

        The SDK's conversion (``FuncMetadata.convert_result``) renders the model as indented JSON
        text, then validates it again against the output schema and dumps it a second time. Our
        tools return models they built and validated themselves, or (list tools) the data layer's
        JSON-ready page, so one dump serves both forms; anything else takes the SDK's path.
        """
        meta = self.fn_metadata
        if not isinstance(result, BaseModel | dict) or meta.output_schema is None or meta.wrap_output:
            return meta.convert_result(result)
        try:
            # A list page comes from the data layer as JSON-ready data (times may still be datetimes).
            data = (result.model_dump(mode="json", by_alias=True) if isinstance(result, BaseModel)
                    else pydantic_core.to_jsonable_python(result))
            text = pydantic_core.to_json(data).decode()
        except Exception as exc:  # noqa: BLE001 - a crash, reported like the SDK reports one
            raise UnexpectedToolError(f"Error executing tool {self.name}") from exc
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


# --- the caller ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectCall:
    """The context of a call the lean path (``stateless_calls``) runs itself: the verified caller,
    handed over directly, since that path builds no SDK ``Context``."""

    user: McpUser


def caller(context: Context | DirectCall, scope: str | None = None) -> TokenInfo:
    """The verified token of the request carrying this call, which must grant ``scope`` if given."""
    if isinstance(context, DirectCall):
        user: object = context.user
    else:
        request = context.request_context.request
        user = getattr(request, "scope", {}).get("user") if request is not None else None
    if not isinstance(user, McpUser):
        raise ToolError("This call carries no verified access token.")
    if scope is not None and scope not in user.info.scopes:
        raise ToolError(
            f"Missing scope: this tool needs the {scope!r} scope, which your access token was not granted. "
            f"Authorize this app again and allow {scope!r}."
        )
    return user.info


# --- the tools ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., Awaitable[Any]]
    name: str
    title: str
    scope: str
    description: str
    annotations: ToolAnnotations


def _reading(title: str) -> ToolAnnotations:
    return ToolAnnotations(title=title, read_only_hint=True, open_world_hint=False)


def _writing(title: str, *, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        title=title, read_only_hint=False, destructive_hint=destructive, idempotent_hint=idempotent,
        open_world_hint=False,
    )


def _kind_tools(
    app: AppContext,
    kind: str,
    out: type[BaseModel],
    list_fn: Callable[[Database, str, PageQuery], Awaitable[dict[str, Any]]],
    get_fn: Callable[[AsyncSession, str, str], Awaitable[Any]],
    delete_fn: Callable[[AsyncSession, str, str], Awaitable[None]],
    searched: str,
) -> list[ToolSpec]:
    """The list, get and delete tools of one kind (their shapes are the same for every kind)."""
    plural = f"{kind}s"
    read, write = f"{plural}:read", f"{plural}:write"
    page_type = Page[out]  # type: ignore[valid-type]

    async def list_records(
        ctx: Context, page: PageArg = 1, perPage: PerPageArg = 30, search: SearchArg = ""  # noqa: N803
    ) -> page_type:  # type: ignore[valid-type]
        user_id = caller(ctx).user_id
        params = _build(PageQuery, {"q": "search"}, page=page, perPage=perPage, q=search)
        return await list_fn(app.db, user_id, params)  # the read pool: the page as JSON-ready data

    async def get_record(ctx: Context, id: RecordIdArg) -> out:  # type: ignore[valid-type]  # noqa: A002
        user_id = caller(ctx).user_id
        try:
            async with app.db.session() as session:
                return await get_fn(session, user_id, id)
        except AxiomError as exc:
            raise _failure(exc, plural) from exc

    async def delete_record(ctx: Context, id: RecordIdArg) -> Deleted:  # noqa: A002
        user_id = caller(ctx).user_id
        try:
            async with app.db.session() as session:
                await delete_fn(session, user_id, id)
        except AxiomError as exc:
            raise _failure(exc, plural) from exc
        return Deleted(id=id)

    # The SDK names each tool's argument model after its function ("<name>Arguments").
    list_records.__name__ = list_records.__qualname__ = f"get_user_{plural}"
    get_record.__name__ = get_record.__qualname__ = f"get_user_{kind}"
    delete_record.__name__ = delete_record.__qualname__ = f"delete_user_{kind}"

    return [
        ToolSpec(
            list_records, f"get_user_{plural}", f"List your {plural}", read,
            f"List the signed-in user's {plural}, newest first, one page at a time. `search` keeps only "
            f"{plural} whose {searched} contains the text. The result has `items` (the {plural}) and "
            "`page`, `perPage`, `totalItems`, `totalPages`; ask for the next page while `page` < `totalPages`.",
            _reading(f"List your {plural}"),
        ),
        ToolSpec(
            get_record, f"get_user_{kind}", f"Get one of your {plural}", read,
            f"Get one of the user's {plural} by its id (ids come from get_user_{plural}).",
            _reading(f"Get one of your {plural}"),
        ),
        ToolSpec(
            delete_record, f"delete_user_{kind}", f"Delete a {kind}", write,
            f"Delete one of the user's {plural} for good, by its id. This cannot be undone.",
            _writing(f"Delete a {kind}", destructive=True, idempotent=True),
        ),
    ]


def tool_specs(app: AppContext) -> list[ToolSpec]:
    """Every tool, in the order clients list them."""

    async def get_user_profile(ctx: Context) -> ProfileOut:
        user_id = caller(ctx).user_id
        try:
            async with app.db.session() as session:
                return await users.get_profile(session, user_id)
        except AxiomError as exc:  # the account was removed while its token was cached
            raise ToolError(exc.message) from exc

    async def _write(plural: str, action: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        try:
            async with app.db.session() as session:
                return await action(session)
        except AxiomError as exc:
            raise _failure(exc, plural) from exc

    # items
    async def create_user_item(
        ctx: Context,
        name: NameArg,
        content: Annotated[str, Field(max_length=CONTENT_MAX, description="The item's text (plain text or HTML).")] = "",
        tags: TagIdsArg = [],  # noqa: B006 - the SDK copies validated arguments; never mutated
        files: Annotated[list[str], Field(max_length=50, description="File names attached to the item.")] = [],  # noqa: B006
    ) -> ItemOut:
        user_id = caller(ctx).user_id
        data = _build(ItemCreate, name=name, content=content, tags=tags, files=files)
        return await _write("items", lambda s: records.create_item(s, user_id, data))

    async def update_user_item(
        ctx: Context,
        id: RecordIdArg,  # noqa: A002
        name: Annotated[str | None, Field(max_length=NAME_MAX, description="A new name; omit to keep it.")] = None,
        content: Annotated[str | None, Field(max_length=CONTENT_MAX, description="New text; omit to keep it.")] = None,
        tags: Annotated[
            list[str] | None,
            Field(max_length=MAX_TAGS, description="The item's complete new list of tag ids (replaces the old list); "
                  "omit to keep it, [] to remove all."),
        ] = None,
        files: Annotated[
            list[str] | None, Field(max_length=50, description="The complete new list of file names; omit to keep it.")
        ] = None,
    ) -> ItemOut:
        user_id = caller(ctx).user_id
        changes = {k: v for k, v in {"name": name, "content": content, "tags": tags, "files": files}.items()
                   if v is not None}
        if not changes:
            raise ToolError("Nothing to change: give at least one of 'name', 'content', 'tags', 'files'.")
        data = _build(ItemUpdate, **changes)
        return await _write("items", lambda s: records.update_item(s, user_id, id, data))

    # clients
    async def create_user_client(
        ctx: Context,
        name: NameArg,
        accessTags: TagIdsArg = [],  # noqa: B006, N803
    ) -> ClientOut:
        user_id = caller(ctx).user_id
        data = _build(ClientCreate, name=name, accessTags=accessTags)
        return await _write("clients", lambda s: records.create_client(s, user_id, data))

    async def update_user_client(
        ctx: Context,
        id: RecordIdArg,  # noqa: A002
        name: Annotated[str | None, Field(max_length=NAME_MAX, description="A new name; omit to keep it.")] = None,
        accessTags: Annotated[  # noqa: N803
            list[str] | None,
            Field(max_length=MAX_TAGS, description="The client's complete new list of tag ids (replaces the old "
                  "list); omit to keep it, [] to remove all."),
        ] = None,
    ) -> ClientOut:
        user_id = caller(ctx).user_id
        changes = {k: v for k, v in {"name": name, "accessTags": accessTags}.items() if v is not None}
        if not changes:
            raise ToolError("Nothing to change: give at least one of 'name', 'accessTags'.")
        data = _build(ClientUpdate, **changes)
        return await _write("clients", lambda s: records.update_client(s, user_id, id, data))

    # tags
    async def create_user_tag(ctx: Context, name: NameArg) -> TagOut:
        user_id = caller(ctx).user_id
        data = _build(TagCreate, name=name)
        return await _write("tags", lambda s: records.create_tag(s, user_id, data))

    async def update_user_tag(
        ctx: Context,
        id: RecordIdArg,  # noqa: A002
        name: Annotated[str | None, Field(max_length=NAME_MAX, description="The tag's new name.")] = None,
    ) -> TagOut:
        user_id = caller(ctx).user_id
        if name is None:
            raise ToolError("Nothing to change: give 'name'.")
        data = _build(TagUpdate, name=name)
        return await _write("tags", lambda s: records.update_tag(s, user_id, id, data))

    items = _kind_tools(app, "item", ItemOut, records.list_items, records.get_item, records.delete_item,
                        "name or content")
    clients = _kind_tools(app, "client", ClientOut, records.list_clients, records.get_client,
                          records.delete_client, "name")
    tags = _kind_tools(app, "tag", TagOut, records.list_tags, records.get_tag, records.delete_tag, "name")

    def writer(fn: Callable[..., Awaitable[Any]], scope: str, title: str, description: str, *,
               changes_existing: bool) -> ToolSpec:
        # An update overwrites what was there (destructive in MCP's sense) and repeating it is
        # harmless (idempotent); a create only adds, and repeating it adds again.
        annotations = _writing(title, destructive=changes_existing, idempotent=changes_existing)
        return ToolSpec(fn, fn.__name__, title, scope, description, annotations)

    return [
        ToolSpec(
            get_user_profile, "get_user_profile", "Your profile", "profile:read",
            "Get the signed-in user's profile: id, name, email, avatar, whether the email is verified, "
            "and when the account was created and last changed.",
            _reading("Your profile"),
        ),
        *items[:2],
        writer(create_user_item, "items:write", "Create an item",
               "Create an item for the user. `name` is required; `content` is its text (plain or HTML); "
               "`tags` are ids of the user's own tags (create tags first with create_user_tag).",
               changes_existing=False),
        writer(update_user_item, "items:write", "Change an item",
               "Change one of the user's items by id. Give only what changes; `tags` and `files` replace "
               "the whole list.", changes_existing=True),
        items[2],
        *clients[:2],
        writer(create_user_client, "clients:write", "Create a client",
               "Create a client (a customer or contact) for the user. `name` is required; `accessTags` are ids "
               "of the user's own tags this client may see.", changes_existing=False),
        writer(update_user_client, "clients:write", "Change a client",
               "Change one of the user's clients by id. Give only what changes; `accessTags` replaces the "
               "whole list.", changes_existing=True),
        clients[2],
        *tags[:2],
        writer(create_user_tag, "tags:write", "Create a tag",
               "Create a tag for the user. Tags label items and decide which items a client may see.",
               changes_existing=False),
        writer(update_user_tag, "tags:write", "Rename a tag", "Rename one of the user's tags by id.",
               changes_existing=True),
        tags[2],
    ]


def build_tools(app: AppContext) -> tuple[list[AxiomTool], dict[str, str]]:
    """The SDK tools, and each tool's scope (what the 403 challenge of ``auth.BearerAuth`` checks)."""
    specs = tool_specs(app)
    tools: list[AxiomTool] = []
    for spec in specs:
        tool = AxiomTool.from_function(
            spec.fn, name=spec.name, title=spec.title, description=spec.description, annotations=spec.annotations
        )
        tool.scope = spec.scope
        tools.append(tool)
    return tools, {spec.name: spec.scope for spec in specs}
