"""List pages of every kind of record (data/kinds.py): the hot read path, kept lean.

One page is one statement: the page's ids come from a deferred-join subquery on the
(user_id, created, id) index (a deep OFFSET skips index entries, not table rows), and a LEFT JOIN
brings each record's tags along in (name, id) order, the order ``records.record_out`` gives them.
The rows become the dict ``Page[kind.out]`` would dump (``page_data``): the faces that only write
the page out (the REST API, the MCP list tools) write it as JSON without building a model per
row; everything else gets the typed ``Page`` (``list_page``), validated from that dict in one
call into pydantic's core. tests/data/test_lists.py holds both to the ORM path, byte for byte.

A connection restricted to a client profile (``access.View``) gets the same one statement with
the access tags bound: an EXISTS on the link table keeps the records carrying one of them, the
LEFT JOIN brings only those tags along (``Kind.in_a_view``: ``tags`` keeps the tags themselves);
its total is kept apart in the count cache (per access tags), and it never seeks from the marks,
which rank the owner's whole list.

``source`` is a ``Database`` (its read pool, db/reads.py: committed data) or an ``AsyncSession``
(the same SQL on that session's connection: it sees the session's uncommitted writes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.access import View, Who, as_view, check
from axiom_mcp.data.counts import count_cache
from axiom_mcp.data.fulltext import Query, hits_sql
from axiom_mcp.data.kinds import Kind
from axiom_mcp.data.marks import MARKED, marks_cache, marks_from_rows, marks_sql
from axiom_mcp.data.schemas import Page, PageQuery
from axiom_mcp.db.engine import Database
from axiom_mcp.db.reads import Row, dollar_params
from axiom_mcp.errors import ValidationFailed

Source: TypeAlias = Database | AsyncSession


def _stamp_sql(column: str, dialect: str) -> str:
    """``column`` (a UTC timestamp) as the database hands it to ``_records``.

    PostgreSQL writes the text pydantic writes for a UTC datetime (``YYYY-MM-DDTHH:MM:SSZ``, or
    ``...SS.ffffffZ`` with a fraction) itself; SQLite's stored text is sliced into that shape in
    Python (``_sqlite_stamp``). bench/README.md has the measurements behind both.
    """
    if dialect == "sqlite":
        return column
    text = f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
    return f"replace({text}, '.000000', '') || 'Z'"


def _record_columns(alias: str, fields: tuple[str, ...], dialect: str) -> str:
    stamps = [_stamp_sql(f"{alias}.{c}", dialect) for c in ("created", "updated")]
    return ", ".join([f"{alias}.id", f"{alias}.user_id", *stamps, *(f"{alias}.{c}" for c in fields)])


SORTS: dict[str, tuple[str, str]] = {
    "-created": ("created", "DESC"), "created": ("created", "ASC"), "name": ("name", "ASC"), "-updated": ("updated", "DESC"),
}
"""The list orders (``PageQuery.sort``): a column and its direction, then the id the same way."""
DEFAULT_SORT = "-created"


def _name_key(column: str, dialect: str) -> str:
    """A name as the ``name`` sort orders it: code point order on every database."""
    return f'{column} COLLATE "C"' if dialect == "postgresql" else column


def _counted_by_link(kind: Kind, searching: bool, terms: int, allowed: int, tagged: int) -> bool:
    """Whether a tag filter's total is counted on the link table alone (its tag ids the only
    placeholders): a record's tags are always its owner's (records._owned_tags), so the links of
    the owner's tags name only the owner's records. An index range instead of an EXISTS per record
    (100,000 items, a tag on 25,000: 1.3 ms instead of 167 ms on SQLite)."""
    return bool(tagged) and not searching and not terms and not allowed and kind.link is not None


@lru_cache(maxsize=512)
def _statements(
    kind: Kind, dialect: str, searching: bool, counting: bool, seeking: bool = False, allowed: int = 0,
    tagged: int = 0, sort: str | None = None, terms: int = 0,
) -> tuple[str, str]:
    """(page SQL, count SQL) with ``?`` placeholders.

    The page's placeholders, in order: [the count's] when ``counting``, [owner] when ``seeking``,
    then either (the page's ids picked by their own table) [``allowed`` again], [the WHERE's],
    [after], LIMIT, OFFSET; or (ranked and sorted by the search document: ``terms``, or items by
    ``name``) [the rank's], [the WHERE's], LIMIT, OFFSET, [``allowed`` again]. The WHERE's (also
    the count's): owner, [one pattern per search column] (a substring search: ``searching``), or
    (a full-text search of ``terms`` words, data/fulltext.py) the query and owner; then [``tagged``
    tag ids], [``allowed`` tag ids]. The rank's: ``fulltext.Query.rank_args``.

    ``allowed`` (a restricted view's number of access tags; never with ``seeking``) keeps the
    records of a ``tagged`` kind carrying one of those tags (an EXISTS on the link table, whose
    key leads with the record's id) or, of ``tags``, those tags; the LEFT JOIN to the tags takes
    them a second time, to bring only the tags the view sees. ``tagged`` (the ``tag`` filter)
    keeps the records carrying one of those tags the same way.

    ``counting`` (never with a search or a tag filter) puts the owner's total in a column of every
    page row (a scalar subquery: an owner first, before the rest): the count costs no second
    statement, which on SQLite is a second thread hop, on PostgreSQL a second round trip.

    ``seeking`` (items in the default order, never with a search or a filter; data/marks.py) starts
    the page after a mark's (created, id): two more placeholders after the owner in the page ids'
    WHERE, and the owner's ``items_version`` in a last column (its owner placeholder right after the
    count's), so the marks are checked against the very snapshot the rows come from. The row-value
    comparison is a range on the index on both databases (SQLite: ``(user_id=? AND (created,id)<(?,?))``,
    PostgreSQL: ``Index Cond: (user_id = $1) AND (ROW(created, id) < ROW($2, $3))``).

    ``sort`` (``SORTS``; None: ``-created``, or with ``terms`` the relevance) orders by a column of
    the record, except items by name, ordered by their search document's folded name (case and
    accents aside) on its index.
    """
    documented = terms > 0 or (sort == "name" and kind.fulltext)
    id_column = "s.item_id" if documented else "id"
    where = "s.user_id = ?" if documented else "user_id = ?"
    source = f"{kind.many}"
    rank_keys: list[tuple[str, str]] = []
    if terms:
        source, where, relevance = hits_sql(dialect, terms, tags=not allowed)
        if sort is None:
            rank_keys = relevance
    elif searching:
        if dialect == "sqlite":
            # SQLite's LIKE folds ASCII only: both sides are lower-cased with all of Unicode (the
            # pattern in Python, the column by axiom_fold), as PostgreSQL's ILIKE does.
            tests = [f"axiom_fold({column}) LIKE ? ESCAPE '\\'" for column in kind.search]
        else:
            tests = [f"{column} ILIKE ? ESCAPE '\\'" for column in kind.search]
        where += f" AND ({' OR '.join(tests)})"
    elif documented:
        source = "item_search AS s"
    if kind.link is not None:
        link, record_column = kind.link
        record_id = id_column if documented else f"{kind.many}.id"
        if tagged:
            where += (f" AND EXISTS (SELECT 1 FROM {link} AS g WHERE g.{record_column} = {record_id}"
                      f" AND g.tag_id IN ({', '.join('?' * tagged)}))")
    allowed_ids = ", ".join("?" * allowed)
    if allowed and kind.in_a_view == "tags":
        where += f" AND id IN ({allowed_ids})"
    elif allowed:
        assert kind.link is not None
        link, record_column = kind.link
        record_id = id_column if documented else f"{kind.many}.id"
        where += (f" AND EXISTS (SELECT 1 FROM {link} AS a WHERE a.{record_column} = {record_id}"
                  f" AND a.tag_id IN ({allowed_ids}))")
    count = f"SELECT count(*) FROM {source} WHERE {where}"
    if _counted_by_link(kind, searching, terms, allowed, tagged):
        assert kind.link is not None
        link, record_column = kind.link
        counted = "*" if tagged == 1 else f"DISTINCT {record_column}"
        count = f"SELECT count({counted}) FROM {link} WHERE tag_id IN ({', '.join('?' * tagged)})"
    columns = _record_columns("r", kind.columns, dialect)
    joins = ""
    tag_order = ""
    if kind.link is not None:
        link, record_column = kind.link
        columns += f", {_record_columns('t', ('name',), dialect)}"
        seen = f" AND l.tag_id IN ({allowed_ids})" if allowed else ""
        joins = f" LEFT JOIN {link} AS l ON l.{record_column} = r.id{seen} LEFT JOIN tags AS t ON t.id = l.tag_id"
        # Code point order on every database (SQLite's BINARY is; PostgreSQL's "C" is), as
        # records._sorted orders a single record's tags.
        tag_order = ', t.name COLLATE "C", t.id' if dialect == "postgresql" else ", t.name, t.id"
    if counting:
        columns += f", ({count}) AS total"
    if seeking:
        columns += ", (SELECT items_version FROM users WHERE id = ?) AS version"
    if documented:
        # Ranked or sorted by the document: the page's ids and their sort keys come first (a
        # derived table, its keys k0, k1...), the records and their tags are joined to them.
        if rank_keys:
            keys = rank_keys
        elif sort == "name":
            keys = [(_name_key("s.name", dialect), "ASC"), ("s.item_id", "ASC")]
        else:
            field, direction = SORTS[sort or DEFAULT_SORT]
            source += " JOIN items AS i ON i.id = s.item_id"
            keys = [(f"i.{field}", direction), ("i.id", direction)]
        picked = ", ".join(f"{key} AS k{n}" for n, (key, _) in enumerate(keys))
        inner = ", ".join(f"k{n} {direction}" for n, (_, direction) in enumerate(keys))
        page_ids = f"SELECT {id_column} AS id, {picked} FROM {source} WHERE {where} ORDER BY {inner} LIMIT ? OFFSET ?"
        outer = ", ".join(f"p.k{n} {direction}" for n, (_, direction) in enumerate(keys))
        page = (f"SELECT {columns} FROM ({page_ids}) AS p JOIN {kind.many} AS r ON r.id = p.id{joins}"
                f" ORDER BY {outer}{tag_order}")
        return page, count
    field, direction = SORTS[sort or DEFAULT_SORT]
    key = _name_key(field, dialect) if field == "name" else field
    after = " AND (created, id) < (?, ?)" if seeking else ""
    page_ids = (
        f"SELECT id FROM {kind.many} WHERE {where}{after} ORDER BY {key} {direction}, id {direction} LIMIT ? OFFSET ?"
    )
    order = f"r.{key} {direction}, r.id {direction}{tag_order}"
    page = f"SELECT {columns} FROM {kind.many} AS r{joins} WHERE r.id IN ({page_ids}) ORDER BY {order}"
    return page, count


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _sqlite_stamp(value: Any) -> Any:
    """SQLite's stored text ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC) as pydantic writes a UTC datetime:
    ``YYYY-MM-DDTHH:MM:SSZ``, or ``...SS.ffffffZ`` when there is a fraction (by slicing)."""
    if isinstance(value, str) and len(value) == 26 and value[10] == " " and value[19] == ".":
        if value.endswith("000000"):
            return f"{value[:10]}T{value[11:19]}Z"
        return f"{value[:10]}T{value[11:]}Z"
    if isinstance(value, str):  # any other shape (no fraction, an offset): through datetime
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _as_made(value: Any) -> Any:
    return value  # PostgreSQL's stamps come formatted from the statement (_stamp_sql)


def _json_list(value: Any) -> list[Any]:
    """A JSON list column (an item's file names): text from the drivers (SQLAlchemy's asyncpg codec decodes it)."""
    if value is None or value == "[]":
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return list(value)


# --- rows to dicts -----------------------------------------------------------------------------


def _records(kind: Kind, rows: list[Row], stamp: Callable[[Any], Any]) -> list[dict[str, Any]]:
    """The page's records from its rows (one row per record and tag), in the models' field order."""
    fields = kind.columns
    width = 4 + len(fields)
    listed = {4 + at for at, name in enumerate(fields) if name in kind.list_columns}
    tags_field = kind.relation.field if kind.relation is not None else None
    records: list[dict[str, Any]] = []
    tag_dicts: dict[str, dict[str, Any]] = {}  # a tag on several records of the page is built once
    last_id = None
    tag_ids: list[str] = []
    tags: list[dict[str, Any]] = []
    for row in rows:
        record_id = row[0]
        if record_id != last_id:
            last_id = record_id
            record = {"id": record_id, "user": row[1], "created": stamp(row[2]), "updated": stamp(row[3])}
            for at in range(4, width):
                record[fields[at - 4]] = _json_list(row[at]) if at in listed else row[at]
            records.append(record)
            if tags_field is None:
                continue
            tag_ids, tags = [], []
            record[tags_field] = tag_ids
            record["expand"] = {tags_field: tags}
        tag_id = row[width]
        if tag_id is not None:
            tag = tag_dicts.get(tag_id)
            if tag is None:
                tag = tag_dicts[tag_id] = {
                    "id": tag_id, "user": row[width + 1], "created": stamp(row[width + 2]),
                    "updated": stamp(row[width + 3]), "name": row[width + 4],
                }
            tag_ids.append(tag_id)
            tags.append(tag)
    return records


# --- reading ------------------------------------------------------------------------------------


def _dialect(source: Source) -> str:
    if isinstance(source, AsyncSession):
        return source.get_bind().dialect.name
    return source.reads.dialect


async def _fetch(source: Source, dialect: str, sql: str, params: list[Any]) -> list[Row]:
    if isinstance(source, AsyncSession):
        connection = await source.connection()
        if dialect == "postgresql":
            sql = dollar_params(sql)
        return list((await connection.exec_driver_sql(sql, tuple(params))).all())
    return await source.reads.fetch(sql, params)


async def _seek(
    source: Source, dialect: str, kind: Kind, user_id: str, counting: bool, per_page: int, offset: int
) -> list[Row] | None:
    """A deep page of items started after a rank mark (data/marks.py), or None: the caller runs
    the plain OFFSET statement, which is always right.

    The read pool computes missing or stale marks (once per call at most) and keeps them; a
    session only uses marks already kept, never computes or keeps its own.
    """
    shared = not isinstance(source, AsyncSession)
    cache = marks_cache(source)
    if cache is None or offset < cache.block:
        return None
    block = offset // cache.block  # whole blocks before the page: start after mark block-1
    marks = cache.get(user_id)
    page_sql = _statements(kind, dialect, False, counting, True)[0]
    for _attempt in range(2):
        if marks is None:
            if not shared:
                return None
            marks = marks_from_rows(await _fetch(source, dialect, marks_sql(cache.block), [user_id] * 3))
            if marks is None:  # no such user (any more): the plain statement answers
                return None
            cache.put(user_id, marks)
        if block > len(marks.keys):  # past the end, at the marks' version: the plain statement is short
            return None
        created, last_id = marks.keys[block - 1]
        args = [user_id, user_id, created, last_id, per_page, offset - block * cache.block]
        rows = await _fetch(source, dialect, page_sql, [user_id, *args] if counting else args)
        if not rows:  # the end, or stale marks: cannot tell without the version; plain answers
            return None
        if rows[0][-1] == marks.version:
            return rows
        if not shared:
            return None
        marks = None  # the user's items changed since: recompute once
    return None


async def _tag_ids(source: Source, dialect: str, kind: Kind, view: View, tag: str) -> list[str]:
    """The owner's tags ``tag`` names (an id, or a name in any case) that ``view`` sees; a tag
    nobody has, another person's, or one outside a restricted view is refused alike, naming ``tag``."""
    if kind.link is None:
        raise ValidationFailed(f"{kind.many} have no tags to filter by", field="tag")
    folded = "axiom_fold(name) = ?" if dialect == "sqlite" else "lower(name) = lower(?)"
    wanted = tag.lower() if dialect == "sqlite" else tag
    rows = await _fetch(source, dialect, f"SELECT id FROM tags WHERE user_id = ? AND (id = ? OR {folded})",
                        [view.user_id, tag, wanted])
    ids = sorted(row[0] for row in rows if not view.restricted or row[0] in view.access_tags)  # type: ignore[operator]
    if not ids:
        raise ValidationFailed(f"no tag {tag[:100]!r}: give the id or the name of one of your tags", field="tag")
    return ids


async def page_data(source: Source, kind: Kind, who: Who, params: PageQuery) -> dict[str, Any]:
    """One page of the owner's ``kind`` records that ``who`` sees, as the JSON-ready dict
    ``Page[kind.out]`` dumps (keys in the models' order, timestamps as their JSON text): newest
    first, or in ``params.sort``'s order; a full-text search (items) by relevance unless sorted.

    The total: on a partly filled page it is known without counting; a large unfiltered total may
    come from the short-lived ``CountCache`` (``counts.py`` says what that trades); otherwise an
    unfiltered total comes with the page's rows, and a search's or a tag's is counted after a full page.

    An unsearched, unfiltered items page in the default order at an offset of at least a marks
    block seeks from a rank mark (``_seek``, data/marks.py): the same rows, without stepping over
    the whole offset.
    """
    view = as_view(who)
    check(kind, view, writing=False)
    user_id = view.user_id
    per_page = params.perPage
    offset = (params.page - 1) * per_page
    allowed = sorted(view.access_tags) if view.restricted else []  # type: ignore[arg-type]
    if view.restricted and not allowed:
        return _page(params, 0, [])
    dialect = _dialect(source)
    tagged = await _tag_ids(source, dialect, kind, view, params.tag) if params.tag else []
    query = Query.of(params.q) if kind.fulltext and params.q else None
    if query is not None and not query.terms:
        return _page(params, 0, [])  # only punctuation: not a word to find
    searching = bool(params.q) and query is None
    filtered = bool(params.q) or bool(tagged)
    sort = params.sort
    view_key = " ".join(allowed)
    cache = count_cache(source) if not filtered else None
    cached = cache.get(user_id, kind.many, view_key) if cache is not None else None
    counting = not filtered and cached is None
    terms = len(query.terms) if query is not None else 0
    page_sql, count_sql = _statements(
        kind, dialect, searching, counting, False, len(allowed), len(tagged), sort, terms
    )
    rank_args: list[Any] = []
    if query is not None:
        where_args: list[Any] = [query.match(dialect, tags=not view.restricted), user_id]
        if sort is None:
            rank_args = query.rank_args(dialect, tags=not view.restricted)
    else:
        where_args = [user_id]
    if searching:
        pattern = _like(params.q.lower() if dialect == "sqlite" else params.q)
        where_args += [pattern] * len(kind.search)
    where_args += tagged
    where_args += allowed
    rows = None
    if kind.many == MARKED and not filtered and not view.restricted and sort in (None, DEFAULT_SORT):
        rows = await _seek(source, dialect, kind, user_id, counting, per_page, offset)
    total_at = -1 if rows is None else -2  # a seek's rows end with the version
    if rows is None:
        joined = allowed if kind.link is not None else []
        if terms or (sort == "name" and kind.fulltext):
            args = [*rank_args, *where_args, per_page, offset, *joined]
        else:
            args = [*joined, *where_args, per_page, offset]
        rows = await _fetch(source, dialect, page_sql, [*where_args, *args] if counting else args)
    items = _records(kind, rows, _sqlite_stamp if dialect == "sqlite" else _as_made)
    if 0 < len(items) < per_page:
        total = offset + len(items)
    elif cached is not None:
        total = cached
    elif counting and rows:
        total = int(rows[0][total_at])
    else:  # a full page of a search or a filter, or an empty page: count
        counted = tagged if _counted_by_link(kind, searching, terms, len(allowed), len(tagged)) else where_args
        total = int((await _fetch(source, dialect, count_sql, counted))[0][0] or 0)
    if cache is not None and cached is None:
        cache.put(user_id, kind.many, total, view_key)
    return _page(params, total, items)


def _page(params: PageQuery, total: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "page": params.page,
        "perPage": params.perPage,
        "totalItems": total,
        "totalPages": math.ceil(total / params.perPage),
        "items": items,
    }


async def list_page(source: Source, kind: Kind, who: Who, params: PageQuery) -> Page[Any]:
    """``page_data`` as a ``Page[kind.out]``, validated in one call into pydantic's core."""
    return kind.page_from_store.validate_python(await page_data(source, kind, who, params))
