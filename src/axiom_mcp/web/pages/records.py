"""The dashboard's items, clients and tags: list (search, pages), create, edit, delete.

One set of handlers serves the three kinds, described by a ``Kind``; every read and write goes
through ``axiom_mcp.data.records``, which checks ownership (another user's record is a 404 here too).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import records
from axiom_mcp.data.schemas import (
    MAX_PER_PAGE,
    ClientCreate,
    ClientOut,
    ClientUpdate,
    ItemCreate,
    ItemOut,
    ItemUpdate,
    Page,
    PageQuery,
    TagCreate,
    TagOut,
    TagUpdate,
)
from axiom_mcp.db.tables import CONTENT_MAX, NAME_MAX
from axiom_mcp.errors import NotFoundError, ValidationFailed
from axiom_mcp.web.forms import field_errors, text
from axiom_mcp.web.visits import Visit, signed_in

PER_PAGE = 20
MAX_PAGE = 1_000_000
MAX_QUERY = 200
MAX_TAG_CHOICES = 1000
_RECORD_ID = re.compile(r"^[a-z0-9]{1,15}$")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    widget: Literal["text", "textarea", "tags"]
    help: str = ""
    required: bool = False
    maxlength: int | None = None


@dataclass(frozen=True)
class Kind:
    slug: str
    one: str
    title: str
    fields: tuple[FieldSpec, ...]
    ops: dict[str, Callable[..., Awaitable[Any]]]
    page_model: type[BaseModel]
    """What the list template reads (``ops["list"]`` returns the page as a plain dict)."""
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    search_hint: str
    empty: str

    @property
    def needs_tags(self) -> bool:
        return any(f.widget == "tags" for f in self.fields)


NAME = FieldSpec("name", "Name", "text", required=True, maxlength=NAME_MAX)

KINDS: dict[str, Kind] = {
    "items": Kind(
        slug="items",
        one="item",
        title="Items",
        fields=(
            NAME,
            FieldSpec("content", "Content", "textarea", help="Text or HTML.", maxlength=CONTENT_MAX),
            FieldSpec("tags", "Tags", "tags", help="Tags help you and your apps find the item."),
        ),
        ops={"list": records.list_items, "get": records.get_item, "create": records.create_item,
             "update": records.update_item, "delete": records.delete_item},
        page_model=Page[ItemOut],
        create_model=ItemCreate,
        update_model=ItemUpdate,
        search_hint="Search names and content",
        empty="No items yet. Create your first one, or let a connected app add some.",
    ),
    "clients": Kind(
        slug="clients",
        one="client",
        title="Clients",
        fields=(
            NAME,
            FieldSpec("accessTags", "Access tags", "tags", help="Items with these tags are shared with this client."),
        ),
        ops={"list": records.list_clients, "get": records.get_client, "create": records.create_client,
             "update": records.update_client, "delete": records.delete_client},
        page_model=Page[ClientOut],
        create_model=ClientCreate,
        update_model=ClientUpdate,
        search_hint="Search names",
        empty="No clients yet.",
    ),
    "tags": Kind(
        slug="tags",
        one="tag",
        title="Tags",
        fields=(NAME,),
        ops={"list": records.list_tags, "get": records.get_tag, "create": records.create_tag,
             "update": records.update_tag, "delete": records.delete_tag},
        page_model=Page[TagOut],
        create_model=TagCreate,
        update_model=TagUpdate,
        search_hint="Search names",
        empty="No tags yet. Tags group items and decide what a client may see.",
    ),
}


def page_query(request: Request, per_page: int = PER_PAGE) -> PageQuery:
    """The list parameters from the address bar, forgiving: a bad page number shows page 1."""
    raw_page = request.query_params.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 1 <= int(raw_page) <= MAX_PAGE else 1
    q = request.query_params.get("q", "").replace("\x00", "").strip()[:MAX_QUERY]
    return PageQuery(page=page, perPage=per_page, q=q)


def _kind(request: Request) -> Kind:
    kind = request.state.kind
    assert isinstance(kind, Kind)
    return kind


def _record_id(request: Request) -> str:
    record_id = str(request.path_params.get("record_id", ""))
    if not _RECORD_ID.match(record_id):
        raise NotFoundError("no such record")
    return record_id


async def all_tags(source: Any, user_id: str) -> list[TagOut]:
    """The user's tags for a form's checkboxes, by name (``source``: a Database or a session)."""
    tags: list[TagOut] = []
    page = 1
    while len(tags) < MAX_TAG_CHOICES:
        batch = await records.list_tags(source, user_id, PageQuery(page=page, perPage=MAX_PER_PAGE))
        tags.extend(TagOut.model_validate(t) for t in batch["items"])
        if page >= batch["totalPages"]:
            break
        page += 1
    return sorted(tags, key=lambda t: (t.name.lower(), t.id))


def _values_from_form(kind: Kind, visit: Visit) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in kind.fields:
        if spec.widget == "tags":
            values[spec.name] = visit.form.getlist(spec.name)
        elif spec.widget == "textarea":
            values[spec.name] = text(visit.form.get(spec.name))
        else:
            values[spec.name] = visit.form.get(spec.name)
    return values


def _values_from_record(kind: Kind, record: Any) -> dict[str, Any]:
    return {spec.name: getattr(record, spec.name) for spec in kind.fields}


async def _form_page(visit: Visit, kind: Kind, *, record: Any | None, values: dict[str, Any],
                     errors: dict[str, str], status: int = 200) -> Response:
    tags: list[TagOut] = []
    if kind.needs_tags:
        tags = await all_tags(visit.ctx.db, visit.user_id)
    title = f"Edit {kind.one}" if record is not None else f"New {kind.one}"
    return visit.render("record_form.html", status=status, title=title, section=kind.slug, kind=kind,
                        record=record, values=values, errors=errors, tags=tags)


@signed_in
async def list_records(request: Request, visit: Visit) -> Response:
    kind = _kind(request)
    params = page_query(request)
    page = kind.page_model.model_validate(await kind.ops["list"](visit.ctx.db, visit.user_id, params))
    return visit.render("record_list.html", title=kind.title, section=kind.slug, kind=kind, page=page, q=params.q)


async def _save(visit: Visit, kind: Kind, record_id: str | None) -> tuple[Any, dict[str, str], dict[str, Any]]:
    """Create or update from the posted form: (record, errors, values shown again on error)."""
    values = _values_from_form(kind, visit)
    model = kind.update_model if record_id else kind.create_model
    try:
        data = model.model_validate(values)
        async with visit.ctx.db.session() as session:
            if record_id:
                return await kind.ops["update"](session, visit.user_id, record_id, data), {}, values
            return await kind.ops["create"](session, visit.user_id, data), {}, values
    except ValidationError as exc:
        return None, field_errors(exc), values
    except ValidationFailed as exc:
        return None, {exc.field or "form": exc.message}, values


@signed_in
async def new_record(request: Request, visit: Visit) -> Response:
    kind = _kind(request)
    if request.method == "GET":
        empty = {spec.name: [] if spec.widget == "tags" else "" for spec in kind.fields}
        return await _form_page(visit, kind, record=None, values=empty, errors={})
    record, errors, values = await _save(visit, kind, None)
    if errors:
        return await _form_page(visit, kind, record=None, values=values, errors=errors, status=400)
    return visit.redirect(f"/{kind.slug}", notice="created")


@signed_in
async def edit_record(request: Request, visit: Visit) -> Response:
    kind, record_id = _kind(request), _record_id(request)
    async with visit.ctx.db.session() as session:
        record = await kind.ops["get"](session, visit.user_id, record_id)
    if request.method == "GET":
        return await _form_page(visit, kind, record=record, values=_values_from_record(kind, record), errors={})
    saved, errors, values = await _save(visit, kind, record_id)
    if errors:
        return await _form_page(visit, kind, record=record, values=values, errors=errors, status=400)
    return visit.redirect(f"/{kind.slug}", notice="saved")


@signed_in
async def delete_record(request: Request, visit: Visit) -> Response:
    kind, record_id = _kind(request), _record_id(request)
    async with visit.ctx.db.session() as session:
        if request.method == "GET":
            record = await kind.ops["get"](session, visit.user_id, record_id)
            return visit.render("record_delete.html", title=f"Delete {kind.one}", section=kind.slug,
                                kind=kind, record=record)
        await kind.ops["delete"](session, visit.user_id, record_id)
    return visit.redirect(f"/{kind.slug}", notice="deleted")


def _bound(kind: Kind, endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def bound(request: Request) -> Response:
        request.state.kind = kind
        return await endpoint(request)

    return bound


routes = [
    route
    for slug, kind in KINDS.items()
    for route in (
        Route(f"/{slug}", _bound(kind, list_records), methods=["GET"], name=f"{slug}_list"),
        Route(f"/{slug}/new", _bound(kind, new_record), methods=["GET", "POST"], name=f"{slug}_new"),
        Route(f"/{slug}/{{record_id}}", _bound(kind, edit_record), methods=["GET", "POST"], name=f"{slug}_edit"),
        Route(f"/{slug}/{{record_id}}/delete", _bound(kind, delete_record), methods=["GET", "POST"],
              name=f"{slug}_delete"),
    )
]
