"""The dashboard's pages for every kind of record (data/kinds.py): list (search, pages), create,
edit, delete, and for a kind with rich text a page to read one record.

Rich text is edited in web/static/editor.js (a toolbar over an editable area, posting HTML with
``format=html``); without JavaScript its textarea takes Markdown or HTML, told apart by
``content.guess_format``. Either way the data layer stores it sanitized, and every page shows it
through ``content.readable``, never as it was posted.

One set of handlers serves every kind; every read and write goes through ``axiom_mcp.data.records``,
which checks ownership (another user's record is a 404 here too).

A delete can be undone for ``settings.undo_window`` (data/undo.py): the list then says "Deleted
“X”" with an Undo button, and offers every record of its kind deleted within the window (by an
app too). Notices name the record they speak of, read from the database (never from the URL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from axiom_mcp.data import records, undo
from axiom_mcp.data.content import FORMATS, guess_format, readable, to_stored
from axiom_mcp.data.kinds import ITEMS, KINDS, TAGS, Kind
from axiom_mcp.data.schemas import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY, NAME_MAX, PageQuery, TagOut, is_record_id
from axiom_mcp.errors import ConflictError, NotFoundError, ValidationFailed
from axiom_mcp.ids import utcnow
from axiom_mcp.web.forms import field_errors, text
from axiom_mcp.web.pages.item_files import files_context
from axiom_mcp.web.security import PAGE_WITH_SCRIPTS, PAGE_WITH_UPLOADS
from axiom_mcp.web.visits import Visit, signed_in

PER_PAGE = 20
MAX_TAG_CHOICES = 1000


@dataclass(frozen=True)
class FormField:
    """A field of a kind as its form asks for it."""

    name: str
    label: str
    widget: str
    help: str
    required: bool
    maxlength: int | None


def form_fields(kind: Kind) -> tuple[FormField, ...]:
    fields = []
    for field in kind.fields:
        if field.widget is None:
            continue
        required = kind.create.model_fields[field.name].is_required()
        fields.append(FormField(field.name, field.label, field.widget, field.help, required, kind.limits(field.name)[1]))
    return tuple(fields)


SORT_LABELS = {"-created": "Newest first", "created": "Oldest first", "name": "Name, A to Z",
               "-updated": "Recently changed"}
"""The sort select's choices (``PageQuery.sort``); a search with none chosen shows the best matches first."""


def page_query(request: Request, per_page: int = PER_PAGE) -> PageQuery:
    """The list parameters from the address bar, forgiving: a bad page number shows page 1, an
    unknown sort the default order (an unknown tag is said on the page: ``list_records``)."""
    raw_page = request.query_params.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 1 <= int(raw_page) <= MAX_PAGE else 1
    q = request.query_params.get("q", "").replace("\x00", "").strip()[:MAX_QUERY]
    tag = request.query_params.get("tag", "").replace("\x00", "").strip()[:NAME_MAX]
    sort = request.query_params.get("sort", "")
    return PageQuery(page=page, perPage=per_page, q=q, tag=tag, sort=sort if sort in SORT_LABELS else None)


def _kind(request: Request) -> Kind:
    kind = request.state.kind
    assert isinstance(kind, Kind)
    return kind


def _record_id(request: Request) -> str:
    record_id = str(request.path_params.get("record_id", ""))
    if not is_record_id(record_id):
        raise NotFoundError("no such record")
    return record_id


async def all_tags(source: Any, user_id: str) -> list[TagOut]:
    """The user's tags for a form's checkboxes, by name (``source``: a Database or a session)."""
    tags: list[TagOut] = []
    page = 1
    while len(tags) < MAX_TAG_CHOICES:
        batch = await records.list_records(TAGS, source, user_id, PageQuery(page=page, perPage=MAX_PER_PAGE))
        tags.extend(batch.items)
        if page >= batch.totalPages:
            break
        page += 1
    return sorted(tags, key=lambda t: (t.name.lower(), t.id))


def _values_from_form(kind: Kind, visit: Visit) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in form_fields(kind):
        if spec.widget == "tags":
            values[spec.name] = visit.form.getlist(spec.name)
        elif spec.widget in ("textarea", "rich"):
            values[spec.name] = text(visit.form.get(spec.name))
        else:
            values[spec.name] = visit.form.get(spec.name)
    if kind.rich is not None:
        sent = visit.form.get("format")
        values["format"] = sent if sent in FORMATS else guess_format(values.get(kind.rich) or "")
    return values


def _values_from_record(kind: Kind, record: Any) -> dict[str, Any]:
    values = {spec.name: getattr(record, spec.name) for spec in form_fields(kind)}
    if kind.rich is not None:
        values[kind.rich] = readable(values[kind.rich])
    return values


def _shown_again(kind: Kind, values: dict[str, Any]) -> dict[str, Any]:
    """Posted values put back in a form with errors: rich text as it would be stored (the editor
    loads it as HTML, so never as it was posted)."""
    if kind.rich is None:
        return values
    return {**values, kind.rich: to_stored(values.get(kind.rich) or "", values["format"])}


async def _form_page(visit: Visit, kind: Kind, *, record: Any | None, values: dict[str, Any],
                     errors: dict[str, str], status: int = 200) -> Response:
    tags: list[TagOut] = []
    if kind.relation is not None:
        tags = await all_tags(visit.ctx.db, visit.user_id)
    title = f"Edit {kind.one}" if record is not None else f"New {kind.one}"
    # An item's page also lists its files and takes uploads (uploads.js: progress, drag and drop); a
    # kind with rich text loads the editor (editor.js).
    attachments = await files_context(visit, record.id) if record is not None and kind is ITEMS else {}
    headers = PAGE_WITH_UPLOADS if attachments else PAGE_WITH_SCRIPTS if kind.rich is not None else None
    return visit.render("record_form.html", status=status, headers=headers, title=title, section=kind.many,
                        kind=kind, fields=form_fields(kind), record=record, values=values, errors=errors, tags=tags,
                        **attachments)


async def _deleted_notice(visit: Visit, session: Any) -> dict[str, Any]:
    """After a delete: "Deleted “X”", with Undo while it works (nothing for another person's undo id)."""
    undo_id = visit.request.query_params.get("deleted", "")
    if not undo_id:
        return {}
    try:
        gone = await undo.get(session, visit.user_id, undo_id, visit.ctx.settings.undo_window)
    except NotFoundError:
        return {}
    return {"notice": f"Deleted “{gone.name}”.", "undo": gone if gone.until and gone.until > utcnow() else None}


@signed_in
async def list_records(request: Request, visit: Visit) -> Response:
    kind = _kind(request)
    params = page_query(request)
    problem = ""
    try:
        page = await records.list_records(kind, visit.ctx.db, visit.user_id, params)
    except ValidationFailed as exc:  # a tag that is not (or no longer) one of the person's
        problem = exc.message
        page = kind.page.of([], page=params.page, per_page=params.perPage, total=0)
    # What the pager and the filter links carry along (empty values left out of the address).
    kept = {k: v for k, v in (("q", params.q), ("tag", params.tag), ("sort", params.sort or "")) if v}
    window = visit.ctx.settings.undo_window
    unfiltered = params.page == 1 and not (params.q or params.tag)
    async with visit.ctx.db.session() as session:
        notice = await _deleted_notice(visit, session)
        recent = await undo.recent(session, visit.user_id, kind, window) if unfiltered else []
    return visit.render("record_list.html", title=kind.title, section=kind.many, kind=kind, page=page, q=params.q,
                        tag=params.tag, sort=params.sort or "", sorts=SORT_LABELS if kind.fulltext else {},
                        kept=kept, without_tag={k: v for k, v in kept.items() if k != "tag"}, problem=problem,
                        max_query=MAX_QUERY, recent=recent, undo_window=undo.window_in_words(window), **notice)


async def _save(visit: Visit, kind: Kind, record_id: str | None) -> tuple[Any, dict[str, str], dict[str, Any]]:
    """Create or update from the posted form: (record, errors, values shown again on error)."""
    values = _values_from_form(kind, visit)
    model = kind.update if record_id else kind.create
    try:
        data = model.model_validate(values)
        async with visit.ctx.db.session() as session:
            if record_id:
                return await records.update_record(kind, session, visit.user_id, record_id, data), {}, values
            return await records.create_record(kind, session, visit.user_id, data), {}, values
    except ValidationError as exc:
        return None, field_errors(exc), values
    except (ValidationFailed, ConflictError) as exc:  # a tag name the person has already is a conflict
        return None, {exc.field or "form": exc.message}, values


@signed_in
async def new_record(request: Request, visit: Visit) -> Response:
    kind = _kind(request)
    if request.method == "GET":
        empty = {spec.name: [] if spec.widget == "tags" else "" for spec in form_fields(kind)}
        return await _form_page(visit, kind, record=None, values=empty, errors={})
    record, errors, values = await _save(visit, kind, None)
    if errors:
        return await _form_page(visit, kind, record=None, values=_shown_again(kind, values), errors=errors,
                                status=400)
    return visit.redirect(f"/{kind.many}", notice="created", named=record.name)


@signed_in
async def edit_record(request: Request, visit: Visit) -> Response:
    kind, record_id = _kind(request), _record_id(request)
    async with visit.ctx.db.session() as session:
        record = await records.get_record(kind, session, visit.user_id, record_id)
    if request.method == "GET":
        return await _form_page(visit, kind, record=record, values=_values_from_record(kind, record), errors={})
    saved, errors, values = await _save(visit, kind, record_id)
    if errors:
        return await _form_page(visit, kind, record=record, values=_shown_again(kind, values), errors=errors,
                                status=400)
    return visit.redirect(f"/{kind.many}", notice="saved", named=saved.name)


@signed_in
async def view_record(request: Request, visit: Visit) -> Response:
    """A record to read: its rich text shown as sanitized HTML, with Edit and Delete."""
    kind, record_id = _kind(request), _record_id(request)
    async with visit.ctx.db.session() as session:
        record = await records.get_record(kind, session, visit.user_id, record_id)
    assert kind.rich is not None
    return visit.render("record_view.html", title=record.name, section=kind.many, kind=kind, record=record,
                        shown=readable(getattr(record, kind.rich)))


@signed_in
async def delete_record(request: Request, visit: Visit) -> Response:
    kind, record_id = _kind(request), _record_id(request)
    async with visit.ctx.db.session() as session:
        if request.method == "GET":
            record = await records.get_record(kind, session, visit.user_id, record_id)
            return visit.render("record_delete.html", title=f"Delete {kind.one}", section=kind.many,
                                kind=kind, record=record,
                                undo_window=undo.window_in_words(visit.ctx.settings.undo_window))
        kept = await records.delete_record(kind, session, visit.user_id, record_id)
    return visit.redirect(f"/{kind.many}", deleted=kept.id)


@signed_in
async def undo_delete(request: Request, visit: Visit) -> Response:
    """Bring a deleted record back (the owner's, once, within the window: data/undo.py checks)."""
    async with visit.ctx.db.session() as session:
        back = await undo.restore(session, visit.user_id, str(request.path_params["undo_id"]),
                                  visit.ctx.settings.undo_window, storage_quota=visit.ctx.settings.storage_quota)
    for client_id in back.apps:  # an app's client profile is back: its next call sees it at once
        visit.ctx.views.forget(visit.user_id, client_id)
    return visit.redirect(f"/{back.kind.many}", notice="restored", named=back.name)


def _bound(kind: Kind, endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def bound(request: Request) -> Response:
        request.state.kind = kind
        return await endpoint(request)

    return bound


def routes() -> list[Route]:
    """The pages of every kind declared (data/kinds.py), and undoing a delete of any of them."""
    return [Route("/undo/{undo_id}", undo_delete, methods=["POST"], name="undo_delete")] + [
        route
        for slug, kind in KINDS.items()
        for route in (
            Route(f"/{slug}", _bound(kind, list_records), methods=["GET"], name=f"{slug}_list"),
            Route(f"/{slug}/new", _bound(kind, new_record), methods=["GET", "POST"], name=f"{slug}_new"),
            Route(f"/{slug}/{{record_id}}", _bound(kind, edit_record), methods=["GET", "POST"], name=f"{slug}_edit"),
            Route(f"/{slug}/{{record_id}}/delete", _bound(kind, delete_record), methods=["GET", "POST"],
                  name=f"{slug}_delete"),
            *([Route(f"/{slug}/{{record_id}}/view", _bound(kind, view_record), methods=["GET"], name=f"{slug}_view")]
              if kind.rich is not None else []),
        )
    ]
