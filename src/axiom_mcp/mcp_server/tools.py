"""The MCP tools: the caller's profile, each record kind's five (items followed by their files'),
and ChatGPT's ``search``/``fetch``, each behind its OAuth scope.

How a call runs (the caller, the scope checked first, errors worded for a model, activity) is
``tool_calls``; the per-kind tools are ``record_tools``, the file tools ``file_tools``. A restricted
connection is not offered the tools of a kind it cannot touch (``AxiomTool.listed_for``). One
database session per call.
"""

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from axiom_mcp.context import AppContext
from axiom_mcp.data import users
from axiom_mcp.data.kinds import ITEMS, KINDS
from axiom_mcp.data.schemas import ProfileOut
from axiom_mcp.errors import AxiomError
from axiom_mcp.mcp_server import chatgpt
from axiom_mcp.mcp_server.file_tools import file_tools
from axiom_mcp.mcp_server.record_tools import kind_tools
from axiom_mcp.mcp_server.tool_calls import AxiomTool, ToolSpec, caller, reads, tool_failure, view_of


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
        reads("Your profile"),
    )
    kinds = [spec for kind in KINDS.values() for spec in
             (*kind_tools(app, kind), *(file_tools(app) if kind is ITEMS else ()))]
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
            raise tool_failure(exc, ITEMS) from exc

    return [
        ToolSpec(search, "search", "Search your items", ITEMS.read_scope,
                 "Search the person's Axiom items (notes and documents). Returns up to 20 results, each with "
                 "the item's id, title and a URL; read one whole with fetch.", reads("Search your items"), ITEMS),
        ToolSpec(fetch, "fetch", "Read one item", ITEMS.read_scope,
                 "Read one of the person's Axiom items whole, by the id search returned: its title, its text "
                 "as Markdown, its URL, and its tags and dates as metadata.", reads("Read one item"), ITEMS),
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
