"""Pydantic shapes of the user's records, in and out (PocketBase's field names and page shape)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import SchemaValidator

from axiom_mcp.data.content import Format
from axiom_mcp.db.tables import CONTENT_MAX, NAME_MAX
from axiom_mcp.ids import ID_LENGTH

MAX_PER_PAGE = 100
MAX_TAGS = 100

ID_PATTERN = r"^[a-z0-9]+$"


def storable(value: str) -> str:
    """Refuse text no database keeps: NUL (PostgreSQL rejects it) and lone surrogates (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


_STORABLE = AfterValidator(storable)
Text = Annotated[str, _STORABLE]
"""Any text that reaches the database goes through ``storable`` (after its length constraints)."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX), _STORABLE]
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=ID_LENGTH, pattern=ID_PATTERN)]
FileName = Annotated[str, StringConstraints(min_length=1, max_length=1024), _STORABLE]
Content = Annotated[str, StringConstraints(max_length=CONTENT_MAX), _STORABLE]
TagIds = Annotated[list[RecordId], Field(max_length=MAX_TAGS)]
FileNames = Annotated[list[FileName], Field(max_length=50)]


def is_record_id(value: str) -> bool:
    """Whether ``value`` could be a record id at all (anything else cannot exist: a 404 without a query)."""
    return 0 < len(value) <= ID_LENGTH and value.isascii() and value.isalnum() and value == value.lower()


def _in_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcTime = Annotated[datetime, AfterValidator(_in_utc)]
"""A timestamp held in UTC (a naive value is taken as UTC). Pydantic's own JSON of a UTC datetime is
ISO 8601 with a ``Z`` (``...T03:04:05.678901Z``), as PocketBase writes times, so no serializer of
our own is needed (bench/README.md: one cost a page three times as much)."""


def _zone_checked(schema: Any) -> Any:
    """A core schema without ``UtcTime``'s conversions (its datetimes only asked to carry a zone)."""
    if isinstance(schema, list):
        return [_zone_checked(part) for part in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "function-after" and schema["function"].get("function") is _in_utc:
        return {**_zone_checked(schema["schema"]), "tz_constraint": "aware"}
    return {key: _zone_checked(value) for key, value in schema.items()}


def stored_validator(model: type[BaseModel]) -> SchemaValidator:
    """A validator making ``model`` instances from values whose timestamps are in UTC already
    (what the list statement reads): ``UtcTime``'s Python call per timestamp would be most of
    the cost of a list page, so the timestamps are only parsed, in pydantic's core."""
    return SchemaValidator(_zone_checked(model.__pydantic_core_schema__))


class Record(BaseModel):
    id: str
    user: str
    created: UtcTime
    updated: UtcTime


class TagOut(Record):
    name: str


class ItemExpand(BaseModel):
    tags: list[TagOut] = []


class ItemOut(Record):
    name: str
    content: str
    """Sanitized HTML."""
    excerpt: str
    """The content's first words as plain text, for previews (derived from it at every write, and stored)."""
    files: list[str]
    tags: list[str]
    expand: ItemExpand


class ClientExpand(BaseModel):
    accessTags: list[TagOut] = []  # noqa: N815 - PocketBase's field name


class ClientOut(Record):
    name: str
    accessTags: list[str]  # noqa: N815
    expand: ClientExpand


class ProfileOut(BaseModel):
    id: str
    email: str
    name: str
    avatar: str
    verified: bool
    timezone: str = ""
    """The IANA time zone the person's times are shown in ("": not known yet, UTC)."""
    created: UtcTime
    updated: UtcTime


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    page: int
    perPage: int  # noqa: N815
    totalItems: int  # noqa: N815
    totalPages: int  # noqa: N815
    items: list[T]

    @classmethod
    def of(cls, items: list[T], *, page: int, per_page: int, total: int) -> Page[T]:
        return cls(
            page=page, perPage=per_page, totalItems=total, totalPages=math.ceil(total / per_page), items=items
        )


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Patch(_Input):
    """A partial update: a field left out, or sent as ``null``, keeps its value.

    (Null means "unchanged" rather than an error so that callers building the model from optional
    arguments, like the MCP tools, need no special case.)
    """


class TagCreate(_Input):
    name: Name


class TagUpdate(_Patch):
    name: Name | None = None


ContentFormat = Annotated[
    Format, Field(description="What `content` is written in: html (the default), markdown or text; stored as sanitized HTML.")
]


class ItemCreate(_Input):
    name: Name
    content: Content = ""
    tags: TagIds = []
    files: FileNames = []
    format: ContentFormat = "html"


class ItemUpdate(_Patch):
    name: Name | None = None
    content: Content | None = None
    tags: TagIds | None = None
    files: FileNames | None = None
    format: ContentFormat = "html"


class ClientCreate(_Input):
    name: Name
    accessTags: TagIds = []  # noqa: N815


class ClientUpdate(_Patch):
    name: Name | None = None
    accessTags: TagIds | None = None  # noqa: N815


MAX_PAGE = 1_000_000
MAX_QUERY = 200
Sort = Literal["-created", "created", "name", "-updated"]
SORT_VALUES: tuple[str, ...] = get_args(Sort)


class PageQuery(_Input):
    """The list parameters every surface takes; validated the same way everywhere."""

    page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 1
    perPage: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = 30  # noqa: N815
    q: Annotated[str, StringConstraints(max_length=MAX_QUERY), _STORABLE] = ""
    tag: Annotated[str, StringConstraints(strip_whitespace=True, max_length=NAME_MAX), _STORABLE] = ""
    """Only records carrying this tag: its id, or its name in any case."""
    sort: Sort | None = None
    """None: newest first (``-created``), a search by relevance."""
