"""Each kind of the user's records (items, clients, tags) declared once.

A ``Kind`` says what the faces need to know about a kind: its table, its input and output models
(whose field types carry the limits, data/schemas.py), the fields a person or a model fills in,
its tag relation, the columns a search looks in, its scopes, its names and its descriptions. The
storage functions (data/records.py, data/lists.py), the REST routes, the web pages and the MCP
tools are built from these declarations by iterating ``KINDS``; a new kind is one declaration
(``register``) plus the migration that creates its table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import SchemaValidator
from sqlalchemy import inspect as mapper_of

from axiom_mcp.data.content import excerpt
from axiom_mcp.data.schemas import (
    ClientCreate,
    ClientOut,
    ClientUpdate,
    ItemCreate,
    ItemOut,
    ItemUpdate,
    Page,
    TagCreate,
    TagOut,
    TagUpdate,
    stored_validator,
)
from axiom_mcp.db.tables import Client, Item, Tag


@dataclass(frozen=True)
class KindField:
    """A field a caller fills in (an input model's field, in argument order)."""

    name: str
    label: str
    """Its name on a form."""
    about: str
    """What a model is told about it when creating a record."""
    about_change: str
    """... and when changing one."""
    widget: Literal["text", "textarea", "rich", "tags"] | None = "text"
    """How the web form asks for it (None: not on the form)."""
    help: str = ""


@dataclass(frozen=True)
class Relation:
    """A record's tags: the output field naming their ids (and ``expand``'s list of them)."""

    field: str
    attribute: str
    """The ORM relationship holding them."""


@dataclass(frozen=True)
class Derived:
    """An output field computed from another column whenever that one is written, and stored (an
    item's excerpt): list pages read it as a column, rather than work it out for every record
    they show, every time (bench/README.md, "Stored excerpts").

    It follows its source column in the output model."""

    name: str
    source: str
    compute: Callable[[str], str]


@dataclass(frozen=True, eq=False)
class Kind:
    one: str
    """The singular name (``item``); the plural (``items``) is the table's name."""
    title: str
    table: Any
    """The mapped class of the kind's table."""
    out: type[BaseModel]
    create: type[BaseModel]
    update: type[BaseModel]
    fields: tuple[KindField, ...]
    search: tuple[str, ...]
    """The columns a search looks in."""
    searched: str
    """The searched columns in words (``name or content``)."""
    fulltext: bool = False
    """Searched through its full-text documents (data/fulltext.py: items) instead of a substring of ``search``."""
    relation: Relation | None = None
    rich: str | None = None
    """The field holding rich text: stored as sanitized HTML (data/content.py), written in the
    ``format`` its input models name."""
    derived: tuple[Derived, ...] = ()
    unique: str | None = None
    """A field no two of a person's records may share, compared trimmed and in any case
    (``fold.name_key``): the table keeps the folded value in ``<field>_key`` under a unique index
    with the owner, so the database decides between two writes at once (data/records.py)."""
    create_title: str = ""
    create_about: str = ""
    update_title: str = ""
    update_about: str = ""
    search_hint: str = ""
    empty: str = ""
    """What the web list says when there is nothing yet."""
    in_a_view: Literal["tagged", "tags", "hidden"] = "hidden"
    """What a connection restricted to a client profile (data/access.py) does with this kind:
    ``tagged``, only the records carrying one of the profile's access tags (reads and writes);
    ``tags``, read only the profile's access tags themselves; ``hidden``, nothing (neither listed
    nor callable). A new kind is hidden from restricted connections until it says otherwise."""
    columns: tuple[str, ...] = field(init=False)
    """The record's own output columns (after id, user, created, updated), in the output's order."""
    list_columns: tuple[str, ...] = field(init=False)
    """Those of ``columns`` holding a JSON list."""
    link: tuple[str, str] | None = field(init=False)
    """(link table, its column naming the record) of the relation."""
    page: type[Page[Any]] = field(init=False)
    """``Page[out]``: what a list returns."""
    page_from_store: SchemaValidator = field(init=False)
    """Validates a ``page`` from values read from the database (data/lists.py)."""

    def __post_init__(self) -> None:
        skipped = {"id", "user", "created", "updated", "expand"}
        own = [name for name in self.out.model_fields if name not in skipped]
        if self.relation is not None:
            own.remove(self.relation.field)
        order = list(self.out.model_fields)
        for derived in self.derived:
            assert order.index(derived.name) == order.index(derived.source) + 1, derived
        assert self.unique is None or hasattr(self.table, f"{self.unique}_key"), self.unique
        object.__setattr__(self, "columns", tuple(own))
        lists = tuple(c for c in own if get_origin(self.out.model_fields[c].annotation) is list)
        object.__setattr__(self, "list_columns", lists)
        link = None
        if self.relation is not None:
            secondary = mapper_of(self.table).relationships[self.relation.attribute].secondary
            column = next(c for c in secondary.columns if c.references(self.table.__table__.c.id))
            link = (secondary.name, column.name)
        object.__setattr__(self, "link", link)
        object.__setattr__(self, "page", Page[self.out])  # type: ignore[name-defined]
        object.__setattr__(self, "page_from_store", stored_validator(self.page))

    def derived_from(self, source: str, value: Any) -> dict[str, Any]:
        """The stored derived columns to write with ``source`` set to ``value``."""
        return {d.name: d.compute(value) for d in self.derived if d.source == source}

    @property
    def many(self) -> str:
        return str(self.table.__tablename__)

    @property
    def read_scope(self) -> str:
        return f"{self.many}:read"

    @property
    def write_scope(self) -> str:
        return f"{self.many}:write"

    def attribute(self, name: str) -> str:
        """The ORM attribute behind an input or output field."""
        return self.relation.attribute if self.relation is not None and name == self.relation.field else name

    def limits(self, name: str) -> tuple[int | None, int | None]:
        """(min, max) length of an input field, as its create model declares them."""
        return _lengths(self.create.model_fields[name])


def _lengths(info: FieldInfo) -> tuple[int | None, int | None]:
    low = high = None
    for constraint in info.metadata:  # StringConstraints, or annotated_types' MinLen and MaxLen
        if getattr(constraint, "min_length", None) is not None:
            low = constraint.min_length
        if getattr(constraint, "max_length", None) is not None:
            high = constraint.max_length
    return low, high


_NAME = KindField("name", "Name", "The name (1 to 255 characters).", "A new name; omit to keep it.")

ITEMS = Kind(
    one="item",
    title="Items",
    table=Item,
    out=ItemOut,
    create=ItemCreate,
    update=ItemUpdate,
    fields=(
        _NAME,
        KindField("content", "Content", "The item's text, written in `format`.",
                  "New text, written in `format`; omit to keep it.", widget="rich",
                  help="Write in Markdown (**bold**, *italic*, - lists, [links](https://…)) or HTML."),
        KindField("tags", "Tags", "Ids of your tags (see get_user_tags); an id that is not one of your tags is refused.",
                  "The item's complete new list of tag ids (replaces the old list); omit to keep it, [] to remove all.",
                  widget="tags", help="Tags help you and your apps find the item."),
        KindField("files", "Files", "File names attached to the item.",
                  "The complete new list of file names; omit to keep it.", widget=None),
    ),
    search=("name", "content"),
    searched="name, text, tag names or file names",
    fulltext=True,
    relation=Relation("tags", "tags"),
    rich="content",
    derived=(Derived("excerpt", "content", excerpt),),
    create_title="Create an item",
    create_about="Create an item for the user. `name` is required; `content` is its text, in Markdown unless "
    "`format` says html or text (it is kept as sanitized HTML); `tags` are ids of the user's own tags (create "
    "tags first with create_user_tag).",
    update_title="Change an item",
    update_about="Change one of the user's items by id. Give only what changes; `tags` and `files` replace "
    "the whole list.",
    search_hint="Search names, text, tags and files",
    empty="No items yet. Create your first one, or let a connected app add some.",
    in_a_view="tagged",
)

CLIENTS = Kind(
    one="client",
    title="Clients",
    table=Client,
    out=ClientOut,
    create=ClientCreate,
    update=ClientUpdate,
    fields=(
        _NAME,
        KindField("accessTags", "Access tags",
                  "Ids of your tags (see get_user_tags); an id that is not one of your tags is refused.",
                  "The client's complete new list of tag ids (replaces the old list); omit to keep it, [] to remove all.",
                  widget="tags", help="Items with these tags are shared with this client."),
    ),
    search=("name",),
    searched="name",
    relation=Relation("accessTags", "access_tags"),
    create_title="Create a client",
    create_about="Create a client (a customer or contact) for the user. `name` is required; `accessTags` are ids "
    "of the user's own tags this client may see.",
    update_title="Change a client",
    update_about="Change one of the user's clients by id. Give only what changes; `accessTags` replaces the "
    "whole list.",
    search_hint="Search names",
    empty="No clients yet.",
)

TAGS = Kind(
    one="tag",
    title="Tags",
    table=Tag,
    out=TagOut,
    create=TagCreate,
    update=TagUpdate,
    fields=(KindField("name", "Name", _NAME.about, "The tag's new name."),),
    search=("name",),
    searched="name",
    unique="name",
    create_title="Create a tag",
    create_about="Create a tag for the user. Tags label items and decide which items a client may see. Names "
    "are unique whatever their case: if the user has the tag already (see get_user_tags), use it.",
    update_title="Rename a tag",
    update_about="Rename one of the user's tags by id (to a name none of their other tags has, in any case).",
    search_hint="Search names",
    empty="No tags yet. Tags group items and decide what a client may see.",
    in_a_view="tags",
)

KINDS: dict[str, Kind] = {kind.many: kind for kind in (ITEMS, CLIENTS, TAGS)}
"""Every kind, by plural name, in the order the faces list them."""


def register(kind: Kind) -> None:
    """Add a kind: the faces built afterwards serve it."""
    KINDS[kind.many] = kind


def unregister(kind: Kind) -> None:
    KINDS.pop(kind.many, None)
