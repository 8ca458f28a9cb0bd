"""How an MCP tool call runs: the caller, its scope, its arguments, its errors, its record.

Every tool takes the caller from the verified token of the HTTP request that carried the call
(``auth.BearerAuth`` put it there) and checks the tool's scope before anything else
(``AxiomTool.run``). Failures the caller can fix are tool errors (results with ``isError``) whose
text says what was wrong, because a model reads them: an unknown id, a missing or invalid
argument, an unknown argument, a missing scope. Each call is recorded as activity (never content).
"""

import inspect
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

from axiom_mcp.context import AppContext
from axiom_mcp.data.access import View
from axiom_mcp.data.activity import Action
from axiom_mcp.data.kinds import Kind
from axiom_mcp.data.schemas import is_record_id
from axiom_mcp.data.tokens import TokenInfo
from axiom_mcp.errors import AxiomError, NameTaken, NotFoundError, ValidationFailed
from axiom_mcp.ids import ID_LENGTH
from axiom_mcp.mcp_server.auth import McpUser


# --- what several tools share ---------------------------------------------------------------------


class Deleted(BaseModel):
    """What a delete tool returns."""

    id: str
    deleted: bool = True


RecordIdArg = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description=f"The record's id: {ID_LENGTH} lowercase letters and digits, as returned by the list tools.",
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


def tool_failure(exc: AxiomError, kind: Kind) -> ToolError:
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


def build_input(schema: type[BaseModel], renamed: dict[str, str] | None = None, **values: Any) -> Any:
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


# --- what a tool is ------------------------------------------------------------------------------


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


def reads(title: str) -> ToolAnnotations:
    return ToolAnnotations(title=title, read_only_hint=True, open_world_hint=False)


def writes(title: str, *, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        title=title, read_only_hint=False, destructive_hint=destructive, idempotent_hint=idempotent,
        open_world_hint=False,
    )


def with_signature(fn: Callable[..., Any], name: str, parameters: list[inspect.Parameter], returns: Any) -> None:
    """Give ``fn`` (taking ``ctx`` and ``**arguments``) the signature the SDK publishes as the
    tool's arguments, and the tool's name (its argument model is named after the function)."""
    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context)
    fn.__signature__ = inspect.Signature([context, *parameters], return_annotation=returns)  # type: ignore[attr-defined]
    fn.__annotations__ = {p.name: p.annotation for p in (context, *parameters)} | {"return": returns}
    fn.__name__ = fn.__qualname__ = name
