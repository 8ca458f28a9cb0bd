"""The five MCP tools of each record kind (list, get, create, update, delete), derived from its
declaration (data/kinds.py) and calling the same data layer as the REST API with the connection's
view (``data.access``: its user, and the client profile it may be restricted to), so ownership and
access are decided in one place: another user's id, or one outside the view, is "not found",
exactly like an id that never existed.

(No ``from __future__ import annotations`` here: the tools are built in a factory, and the SDK reads
their annotations with ``get_type_hints``, which cannot see a factory's locals in string annotations.)
"""

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, get_origin

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from axiom_mcp.context import AppContext
from axiom_mcp.data import files, records
from axiom_mcp.data.content import Format, ReadFormat, to_read
from axiom_mcp.data.kinds import ITEMS, Kind
from axiom_mcp.data.schemas import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY, NAME_MAX, PageQuery, Sort
from axiom_mcp.errors import AxiomError
from axiom_mcp.mcp_server.file_tools import ItemWithFiles, attached
from axiom_mcp.mcp_server.tool_calls import (
    Deleted, RecordIdArg, ToolSpec, build_input, reads, tool_failure, view_of, with_signature, writes,
)


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


def _argument(kind: Kind, name: str, about: str, *, changing: bool) -> Any:
    """A create (or update) tool's argument for one of the kind's fields: loosely typed (the data
    layer's model checks it fully), with its limits published in the schema."""
    base: Any = list[str] if get_origin(kind.create.model_fields[name].annotation) is list else str
    low, high = kind.limits(name)
    limits = {"max_length": high} if changing or low is None else {"min_length": low, "max_length": high}
    return Annotated[base | None if changing else base, Field(**limits, description=about)]


def kind_tools(app: AppContext, kind: Kind) -> list[ToolSpec]:
    """The list, get, create, update and delete tools of one kind of record."""
    plural, one = kind.many, kind.one
    read, write = kind.read_scope, kind.write_scope
    page_type = kind.page
    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD

    async def answer(work: Awaitable[Any]) -> Any:  # the data layer's errors as tool errors
        try:
            return await work
        except AxiomError as exc:
            raise tool_failure(exc, kind) from exc

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
        params = build_input(PageQuery, {"q": "search"}, page=page, perPage=perPage, q=search, tag=tag, sort=sort)
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
        data = build_input(kind.create, **values)
        return shown(await in_session(lambda s: records.create_record(kind, s, view, data)), reading)

    names = [field.name for field in kind.fields]

    async def update_record(ctx: Context, id: str, **arguments: Any) -> Any:  # noqa: A002
        view = await view_of(app, ctx)
        values, reading = written(arguments)
        changes = {k: v for k, v in values.items() if v is not None and k != "format"}
        if not changes:
            wanted = f"'{names[0]}'" if len(names) == 1 else "at least one of " + ", ".join(f"'{n}'" for n in names)
            raise ToolError(f"Nothing to change: give {wanted}.")
        data = build_input(kind.update, **changes, **({"format": values["format"]} if kind.rich else {}))
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
    with_signature(list_records, f"get_user_{plural}", [
        parameter("page", PageArg, 1), parameter("perPage", PerPageArg, 30),
        parameter("search", FullTextArg if kind.fulltext else SearchArg, ""), *reading, *filters,
    ], page_type)
    with_signature(get_record, f"get_user_{one}", [parameter("id", RecordIdArg), *reading],
                    ItemWithFiles if with_files else kind.out)
    defaults = {name: info.default for name, info in kind.create.model_fields.items() if not info.is_required()}
    with_signature(create_record, f"create_user_{one}", [
        *(parameter(f.name, _argument(kind, f.name, f.about, changing=False),
                    defaults.get(f.name, inspect.Parameter.empty)) for f in kind.fields),
        *writing,
    ], kind.out)
    with_signature(update_record, f"update_user_{one}", [
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
            reads(f"List your {plural}"), kind,
        ),
        ToolSpec(
            get_record, f"get_user_{one}", f"Get one of your {plural}", read,
            f"Get one of the user's {plural} by its id (ids come from get_user_{plural})." + rich_reading
            + (" `attachedFiles` are its files, each readable with resources/read at its `uri`." if with_files else ""),
            reads(f"Get one of your {plural}"), kind,
        ),
        ToolSpec(
            create_record, f"create_user_{one}", kind.create_title, write, kind.create_about,
            writes(kind.create_title, destructive=False, idempotent=False), kind,
        ),
        ToolSpec(
            update_record, f"update_user_{one}", kind.update_title, write, kind.update_about,
            writes(kind.update_title, destructive=True, idempotent=True), kind,
        ),
        ToolSpec(
            delete_record, f"delete_user_{one}", f"Delete a {one}", write,
            f"Delete one of the user's {plural} by its id. Only the user can bring it back, from the Axiom web "
            f"app's {kind.title} page, within a few minutes.",
            writes(f"Delete a {one}", destructive=True, idempotent=True), kind,
        ),
    ]
