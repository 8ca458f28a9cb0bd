"""The MCP tools: the caller's profile, items, clients and tags, each behind its OAuth scope.

Every tool takes the caller from the verified token of the HTTP request that carried the call
(``auth.BearerAuth`` put it there), checks the tool's scope before anything else
(``AxiomTool.run``; the scope is declared beside the tool in ``tool_specs``), and calls the same data layer as
the REST API with the token's connection's view (``data.access``: its user, and the client profile
it may be restricted to), so ownership and access are decided in one place (``axiom_mcp.data``):
another user's id, or one outside the view, is "not found", exactly like an id that never existed.
A restricted connection is not offered the tools of a kind it cannot touch (``listed_for``).

Failures the caller can fix are tool errors (results with ``isError``) whose text says what was
wrong, because a model reads them: an unknown id, a missing or invalid argument, an unknown
argument, a missing scope. One database session per call.

(No ``from __future__ import annotations`` here: the per-kind tools are built in a factory, and
the SDK reads their annotations with ``get_type_hints``, which cannot see a factory's locals in
string annotations.)
"""

import base64
import binascii
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, get_origin

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError
import pydantic_core

from axiom_mcp.context import AppContext
from axiom_mcp.data import files, records, users
from axiom_mcp.data.access import View
from axiom_mcp.data.content import Format, ReadFormat, to_read
from axiom_mcp.data.files import FileOut
from axiom_mcp.data.kinds import ITEMS, KINDS, Kind
from axiom_mcp.data.activity import Action
from axiom_mcp.data.schemas import (
    MAX_PAGE, MAX_PER_PAGE, MAX_QUERY, NAME_MAX, ItemOut, PageQuery, ProfileOut, Sort, is_record_id,
)
from axiom_mcp.data.tokens import TokenInfo
from axiom_mcp.errors import AxiomError, NameTaken, NotFoundError, ValidationFailed
from axiom_mcp.ids import ID_LENGTH
from axiom_mcp.mcp_server import chatgpt
from axiom_mcp.mcp_server.auth import McpUser


class Deleted(BaseModel):
    """What a delete tool returns."""

    id: str
    deleted: bool = True


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


# --- arguments ----------------------------------------------------------------------------------

RecordIdArg = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description=f"The record's id: {ID_LENGTH} lowercase letters and digits, as returned by the list tools.",
    ),
]
PageArg = Annotated[int, Field(ge=1, le=MAX_PAGE, description="Page number, starting at 1.")]
PerPageArg = Annotated[
    int, Field(ge=1, le=MAX_PER_PAGE, description=f"Records per page, 1 to {MAX_PER_PAGE} (default 30).")
]
SearchArg = Annotated[
    str, Field(max_length=MAX_QUERY, description="Only records whose text contains this (case-insensitive); empty for all.")
]
FullTextArg = Annotated[
    str, Field(max_length=MAX_QUERY, description=(
        "Words to find in an item's name, text, tag names and file names (accents and case do not matter; the "
        "last word may be the start of a word); the best matches come first unless `sort` is given. Empty for all."))
]
TagArg = Annotated[
    str, Field(max_length=NAME_MAX, description=(
        "Only items carrying this tag: its id or its name (any case), see get_user_tags. Empty for all."))
]
SortArg = Annotated[
    Sort | None, Field(description=(
        "The order: -created (newest first, the default), created (oldest first), name (A to Z) or -updated "
        "(last changed first). A search without it lists the best matches first."))
]
ReadFormatArg = Annotated[
    ReadFormat, Field(description="How to return `content`: markdown (the default) or html (sanitized).")
]
WriteFormatArg = Annotated[
    Format,
    Field(description="What `content` is written in: markdown (the default), html or text. It is kept as sanitized "
          "HTML; the answer's `content` is Markdown, or HTML if this is html."),
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


def _failure(exc: AxiomError, kind: Kind) -> ToolError:
    if isinstance(exc, NotFoundError):
        return ToolError(
            f"{exc.message}: no such {kind.one} among yours. "
            f"Use get_user_{kind.many} to find the ids of your {kind.many}."
        )
    if isinstance(exc, ValidationFailed) and exc.field:
        return ToolError(f"Invalid {exc.field!r}: {exc.message}.")
    if isinstance(exc, NameTaken):
        return ToolError(f"Invalid {exc.field!r}: {exc.message} Its id is {exc.holder!r}.")
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
    activity: Any = None
    """Where each call is recorded (the process's ``ActivityLog``, set by ``build_tools``)."""
    kind: Any = None
    """The ``Kind`` whose records the tool works on (None: the profile)."""

    def listed_for(self, view: View) -> bool:
        """Whether a connection with ``view`` is offered this tool (calling it anyway is refused
        by the data layer, which words why)."""
        return not view.restricted or self.kind is None or self.kind.in_a_view != "hidden"

    @cached_property
    def argument_names(self) -> frozenset[str]:
        fields = self.fn_metadata.arg_model.model_fields
        return frozenset(field.alias or name for name, field in fields.items())

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        try:
            token = caller(context)
        except ToolError as exc:
            raise ToolError(f"Error executing tool {self.name}: {exc}") from exc
        named = arguments.get("id")
        ids = [named] if isinstance(named, str) and is_record_id(named) else []
        try:
            result = await self._run(arguments, context)
        except ToolError as exc:
            self._record(token, ids, _error_code(exc))
            raise
        made = getattr(result, "id", None)  # a created record's
        self._record(token, ids if named or not isinstance(made, str) else [made], None)
        return self._content(result) if convert_result else result

    def _record(self, token: TokenInfo, ids: list[str], error: str | None) -> None:
        """One action per call: the tool, the record id it named or made, the outcome; never content."""
        if self.activity is not None:
            self.activity.record(Action(token.user_id, token.client_id, "mcp", self.name, tuple(ids),
                                        ok=error is None, error=error))

    async def _run(self, arguments: dict[str, Any], context: Any) -> Any:
        try:
            caller(context, self.scope)  # first: without the scope, nothing else about the call matters
        except ToolError as exc:
            raise ToolError(f"Error executing tool {self.name}: {exc}") from exc
        unknown = sorted(arguments.keys() - self.argument_names)
        if unknown:
            takes = ", ".join(sorted(self.argument_names)) or "no arguments"
            raise UnknownArguments(
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
        return result

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
            # A list page comes from the data layer as JSON-ready data.
            data = result.model_dump(mode="json", by_alias=True) if isinstance(result, BaseModel) else result
            text = pydantic_core.to_json(data).decode()
        except Exception as exc:  # noqa: BLE001 - a crash, reported like the SDK reports one
            raise UnexpectedToolError(f"Error executing tool {self.name}") from exc
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


class ScopeMissing(ToolError):
    """The caller's token lacks the tool's scope."""


class UnknownArguments(ToolError):
    """The call named arguments the tool does not take."""


def _error_code(exc: ToolError) -> str:
    """What went wrong, as the activity log keeps it (a code, never the message)."""
    failure: BaseException | None = exc
    while failure is not None:  # the SDK wraps what a tool raised in a ToolError of its own
        if isinstance(failure, AxiomError):
            return failure.code
        if isinstance(failure, ScopeMissing):
            return "insufficient_scope"
        if isinstance(failure, UnknownArguments | ValidationError):
            return "invalid_arguments"
        failure = failure.__cause__
    return "tool_error"


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
        raise ScopeMissing(
            f"Missing scope: this tool needs the {scope!r} scope, which your access token was not granted. "
            f"Authorize this app again and allow {scope!r}."
        )
    return user.info


# --- the tools ----------------------------------------------------------------------------------


async def view_of(app: AppContext, context: Context | DirectCall) -> View:
    """What the connection of this call sees (cached per connection, data/access.Views)."""
    token = caller(context)
    return await app.views.of(token.user_id, token.client_id)


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., Awaitable[Any]]
    name: str
    title: str
    scope: str
    description: str
    annotations: ToolAnnotations
    kind: Kind | None = None


def _reading(title: str) -> ToolAnnotations:
    return ToolAnnotations(title=title, read_only_hint=True, open_world_hint=False)


def _writing(title: str, *, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        title=title, read_only_hint=False, destructive_hint=destructive, idempotent_hint=idempotent,
        open_world_hint=False,
    )


def _argument(kind: Kind, name: str, about: str, *, changing: bool) -> Any:
    """A create (or update) tool's argument for one of the kind's fields: loosely typed (the data
    layer's model checks it fully), with its limits published in the schema."""
    base: Any = list[str] if get_origin(kind.create.model_fields[name].annotation) is list else str
    low, high = kind.limits(name)
    limits = {"max_length": high} if changing or low is None else {"min_length": low, "max_length": high}
    return Annotated[base | None if changing else base, Field(**limits, description=about)]


def _with_signature(fn: Callable[..., Any], name: str, parameters: list[inspect.Parameter], returns: Any) -> None:
    """Give ``fn`` (taking ``ctx`` and ``**arguments``) the signature the SDK publishes as the
    tool's arguments, and the tool's name (its argument model is named after the function)."""
    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context)
    fn.__signature__ = inspect.Signature([context, *parameters], return_annotation=returns)  # type: ignore[attr-defined]
    fn.__annotations__ = {p.name: p.annotation for p in (context, *parameters)} | {"return": returns}
    fn.__name__ = fn.__qualname__ = name


def _kind_tools(app: AppContext, kind: Kind) -> list[ToolSpec]:
    """The list, get, create, update and delete tools of one kind of record."""
    plural, one = kind.many, kind.one
    read, write = kind.read_scope, kind.write_scope
    page_type = kind.page
    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD

    async def answer(work: Awaitable[Any]) -> Any:  # the data layer's errors as tool errors
        try:
            return await work
        except AxiomError as exc:
            raise _failure(exc, kind) from exc

    async def in_session(action: Callable[[Any], Awaitable[Any]]) -> Any:  # the action gets a database session
        async def run() -> Any:
            async with app.db.session() as session:
                return await action(session)

        return await answer(run())

    def shown(record: Any, fmt: ReadFormat) -> Any:
        """A record with its rich text as the caller reads it."""
        if kind.rich is None:
            return record
        return record.model_copy(update={kind.rich: to_read(getattr(record, kind.rich), fmt)})

    async def list_records(
        ctx: Context, page: int = 1, perPage: int = 30, search: str = "", format: ReadFormat = "markdown",  # noqa: A002, N803
        tag: str = "", sort: str | None = None,
    ) -> Any:
        view = await view_of(app, ctx)
        params = _build(PageQuery, {"q": "search"}, page=page, perPage=perPage, q=search, tag=tag, sort=sort)
        data = await answer(records.list_records_data(kind, app.db, view, params))  # the read pool, JSON-ready
        if kind.rich is not None:
            for record in data["items"]:
                record[kind.rich] = to_read(record[kind.rich], format)
        return data

    with_files = kind is ITEMS

    async def get_record(ctx: Context, id: str, format: ReadFormat = "markdown") -> Any:  # noqa: A002
        view = await view_of(app, ctx)

        async def read(session: Any) -> Any:
            record = await records.get_record(kind, session, view, id)
            if not with_files:
                return record
            listed = await files.list_files(session, view.user_id, id)
            return ItemWithFiles(**dict(record), attachedFiles=[attached(f) for f in listed])

        return shown(await in_session(read), format)

    def written(arguments: dict[str, Any]) -> tuple[dict[str, Any], ReadFormat]:
        """The input model's values (a rich kind's ``format`` defaults to Markdown here, since models
        write it), and the format the answer's rich text is read back in."""
        if kind.rich is None:
            return arguments, "markdown"
        fmt = arguments.pop("format", None) or "markdown"
        return {**arguments, "format": fmt}, "html" if fmt == "html" else "markdown"

    async def create_record(ctx: Context, **arguments: Any) -> Any:
        view = await view_of(app, ctx)
        values, reading = written(arguments)
        data = _build(kind.create, **values)
        return shown(await in_session(lambda s: records.create_record(kind, s, view, data)), reading)

    names = [field.name for field in kind.fields]

    async def update_record(ctx: Context, id: str, **arguments: Any) -> Any:  # noqa: A002
        view = await view_of(app, ctx)
        values, reading = written(arguments)
        changes = {k: v for k, v in values.items() if v is not None and k != "format"}
        if not changes:
            wanted = f"'{names[0]}'" if len(names) == 1 else "at least one of " + ", ".join(f"'{n}'" for n in names)
            raise ToolError(f"Nothing to change: give {wanted}.")
        data = _build(kind.update, **changes, **({"format": values["format"]} if kind.rich else {}))
        return shown(await in_session(lambda s: records.update_record(kind, s, view, id, data)), reading)

    async def delete_record(ctx: Context, id: RecordIdArg) -> Deleted:  # noqa: A002
        view = await view_of(app, ctx)
        await in_session(lambda s: records.delete_record(kind, s, view, id))
        return Deleted(id=id)

    def parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
        return inspect.Parameter(name, keyword, annotation=annotation, default=default)

    reading = [parameter("format", ReadFormatArg, "markdown")] if kind.rich else []
    writing = [parameter("format", WriteFormatArg, "markdown")] if kind.rich else []
    filters = [parameter("tag", TagArg, ""), parameter("sort", SortArg, None)] if kind.fulltext else []
    _with_signature(list_records, f"get_user_{plural}", [
        parameter("page", PageArg, 1), parameter("perPage", PerPageArg, 30),
        parameter("search", FullTextArg if kind.fulltext else SearchArg, ""), *reading, *filters,
    ], page_type)
    _with_signature(get_record, f"get_user_{one}", [parameter("id", RecordIdArg), *reading],
                    ItemWithFiles if with_files else kind.out)
    defaults = {name: info.default for name, info in kind.create.model_fields.items() if not info.is_required()}
    _with_signature(create_record, f"create_user_{one}", [
        *(parameter(f.name, _argument(kind, f.name, f.about, changing=False),
                    defaults.get(f.name, inspect.Parameter.empty)) for f in kind.fields),
        *writing,
    ], kind.out)
    _with_signature(update_record, f"update_user_{one}", [
        parameter("id", RecordIdArg),
        *(parameter(f.name, _argument(kind, f.name, f.about_change, changing=True), None) for f in kind.fields),
        *writing,
    ], kind.out)
    rich_reading = f" `{kind.rich}` comes as Markdown, or as HTML if `format` is html." if kind.rich else ""
    # The SDK names each tool's argument model after its function ("<name>Arguments").
    delete_record.__name__ = delete_record.__qualname__ = f"delete_user_{one}"

    # An update overwrites what was there (destructive in MCP's sense) and repeating it is
    # harmless (idempotent); a create only adds, and repeating it adds again.
    return [
        ToolSpec(
            list_records, f"get_user_{plural}", f"List your {plural}", read,
            (f"List the signed-in user's {plural}, newest first (or in `sort`'s order), one page at a time. "
             f"`search` finds {plural} by the words of their {kind.searched}, best matches first; `tag` keeps "
             f"those carrying a tag. The result has `items` (the {plural}) and " if kind.fulltext else
             f"List the signed-in user's {plural}, newest first, one page at a time. `search` keeps only "
             f"{plural} whose {kind.searched} contains the text. The result has `items` (the {plural}) and ")
            + "`page`, `perPage`, `totalItems`, `totalPages`; ask for the next page while `page` < `totalPages`."
            + rich_reading,
            _reading(f"List your {plural}"), kind,
        ),
        ToolSpec(
            get_record, f"get_user_{one}", f"Get one of your {plural}", read,
            f"Get one of the user's {plural} by its id (ids come from get_user_{plural})." + rich_reading
            + (" `attachedFiles` are its files, each readable with resources/read at its `uri`." if with_files else ""),
            _reading(f"Get one of your {plural}"), kind,
        ),
        ToolSpec(
            create_record, f"create_user_{one}", kind.create_title, write, kind.create_about,
            _writing(kind.create_title, destructive=False, idempotent=False), kind,
        ),
        ToolSpec(
            update_record, f"update_user_{one}", kind.update_title, write, kind.update_about,
            _writing(kind.update_title, destructive=True, idempotent=True), kind,
        ),
        ToolSpec(
            delete_record, f"delete_user_{one}", f"Delete a {one}", write,
            f"Delete one of the user's {plural} by its id. Only the user can bring it back, from the Axiom web "
            f"app's {kind.title} page, within a few minutes.",
            _writing(f"Delete a {one}", destructive=True, idempotent=True), kind,
        ),
    ]


FileNameArg = Annotated[str, Field(min_length=1, max_length=255, description="The file's name, with its extension.")]
Base64Arg = Annotated[str, Field(
    min_length=0, max_length=4 * -(-MAX_TOOL_FILE // 3) + 4,
    description=f"The file's bytes in base64 (standard alphabet); at most {MAX_TOOL_FILE // (1024 * 1024)} MiB "
    "of file. Larger files: the web app or the REST API.",
)]


def _file_tools(app: AppContext) -> list[ToolSpec]:
    """Attaching a small file to an item, and removing one (an item's files: get_user_item)."""

    async def add_user_item_file(ctx: Context, item_id: RecordIdArg, name: FileNameArg,
                                 content_base64: Base64Arg) -> AttachedFile:
        view = await view_of(app, ctx)
        user_id = view.user_id
        try:
            async with app.db.session() as session:  # only to an item this connection sees
                await records.get_record(ITEMS, session, view, item_id)
        except AxiomError as exc:
            raise _failure(exc, ITEMS) from exc
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
            raise _failure(exc, ITEMS) from exc
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
            _writing("Attach a file to an item", destructive=False, idempotent=False), ITEMS,
        ),
        ToolSpec(
            delete_user_item_file, "delete_user_item_file", "Remove a file from an item", write,
            "Delete one of the files attached to the user's items, by its id (from get_user_item's "
            "`attachedFiles`). This cannot be undone.",
            _writing("Remove a file from an item", destructive=True, idempotent=True), ITEMS,
        ),
    ]


def tool_specs(app: AppContext) -> list[ToolSpec]:
    """Every tool, in the order clients list them: the profile, then each kind's five (the items' followed
    by their files')."""

    async def get_user_profile(ctx: Context) -> ProfileOut:
        user_id = caller(ctx).user_id
        try:
            async with app.db.session() as session:
                return await users.get_profile(session, user_id)
        except AxiomError as exc:  # the account was removed while its token was cached
            raise ToolError(exc.message) from exc

    profile = ToolSpec(
        get_user_profile, "get_user_profile", "Your profile", "profile:read",
        "Get the signed-in user's profile: id, name, email, avatar, whether the email is verified, "
        "and when the account was created and last changed.",
        _reading("Your profile"),
    )
    kinds = [spec for kind in KINDS.values() for spec in
             (*_kind_tools(app, kind), *(_file_tools(app) if kind is ITEMS else ()))]
    return [profile, *kinds, *_chatgpt_tools(app)]


def _chatgpt_tools(app: AppContext) -> list[ToolSpec]:
    """``search`` and ``fetch`` in the shapes ChatGPT's connectors and deep research require."""

    async def search(ctx: Context, query: Annotated[str, Field(max_length=1000, description=(
        "What to look for in the person's items: words from their names, text, tags or file names (best matches first)."))]) -> chatgpt.SearchResults:
        return await chatgpt.search(app, await view_of(app, ctx), query)

    async def fetch(ctx: Context, id: Annotated[str, Field(min_length=1, max_length=64, description=(  # noqa: A002
        "An item's id, as search returned it."))]) -> chatgpt.Document:
        try:
            return await chatgpt.fetch(app, await view_of(app, ctx), id)
        except AxiomError as exc:
            raise _failure(exc, ITEMS) from exc

    return [
        ToolSpec(search, "search", "Search your items", ITEMS.read_scope,
                 "Search the person's Axiom items (notes and documents). Returns up to 20 results, each with "
                 "the item's id, title and a URL; read one whole with fetch.", _reading("Search your items"), ITEMS),
        ToolSpec(fetch, "fetch", "Read one item", ITEMS.read_scope,
                 "Read one of the person's Axiom items whole, by the id search returned: its title, its text "
                 "as Markdown, its URL, and its tags and dates as metadata.", _reading("Read one item"), ITEMS),
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
        tool.activity = app.activity
        tool.kind = spec.kind
        tools.append(tool)
    return tools, {spec.name: spec.scope for spec in specs}
