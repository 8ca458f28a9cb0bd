"""Pydantic shapes of the user's records, in and out (PocketBase's field names and page shape)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer

from axiom_mcp.db.tables import CONTENT_MAX, NAME_MAX
from axiom_mcp.ids import ID_LENGTH

MAX_PER_PAGE = 100
MAX_TAGS = 100

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
RecordId = Annotated[str, StringConstraints(min_length=1, max_length=ID_LENGTH, pattern=r"^[a-z0-9]+$")]
FileName = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Record(BaseModel):
    id: str
    user: str
    created: datetime
    updated: datetime

    @field_serializer("created", "updated")
    def _timestamp(self, value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")


class TagOut(Record):
    name: str


class ItemExpand(BaseModel):
    tags: list[TagOut] = []


class ItemOut(Record):
    name: str
    content: str
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
    created: datetime
    updated: datetime

    @field_serializer("created", "updated")
    def _timestamp(self, value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")


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


class TagCreate(_Input):
    name: Name


class TagUpdate(_Input):
    name: Name | None = None


class ItemCreate(_Input):
    name: Name
    content: Annotated[str, Field(max_length=CONTENT_MAX)] = ""
    tags: Annotated[list[RecordId], Field(max_length=MAX_TAGS)] = []
    files: Annotated[list[FileName], Field(max_length=50)] = []


class ItemUpdate(_Input):
    name: Name | None = None
    content: Annotated[str, Field(max_length=CONTENT_MAX)] | None = None
    tags: Annotated[list[RecordId], Field(max_length=MAX_TAGS)] | None = None
    files: Annotated[list[FileName], Field(max_length=50)] | None = None


class ClientCreate(_Input):
    name: Name
    accessTags: Annotated[list[RecordId], Field(max_length=MAX_TAGS)] = []  # noqa: N815


class ClientUpdate(_Input):
    name: Name | None = None
    accessTags: Annotated[list[RecordId], Field(max_length=MAX_TAGS)] | None = None  # noqa: N815


class PageQuery(_Input):
    """The list parameters every surface takes; validated the same way everywhere."""

    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    perPage: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = 30  # noqa: N815
    q: Annotated[str, Field(max_length=200)] = ""
