"""Full-text search over items: each item's search document, kept right, and a query made safe.

An item's document is four texts in ``item_search`` (migration 0016): its name, its content as
text (``content.to_text``), its tags' names and its files' names. Each is stored *folded* here in
Python (``words``: Unicode NFKD, combining marks dropped, case-folded, cut into runs of letters and
digits, joined by spaces), the same fold on both databases: a PostgreSQL whose ctype is C lower-cases
only ASCII, and ``unaccent`` is an extension a database may lack, so neither the index nor the
query depends on the database's locale or extensions. The index is the database's own: SQLite an
FTS5 table over ``item_search`` (``unicode61 remove_diacritics 2``, which finds nothing left to
fold), PostgreSQL a generated ``tsvector`` column (``simple``: no stemming, no stop words) with a
GIN index, each column weighted (the name most, then tags and file names, then the text).

The data layer keeps the documents right (``refresh``): after an item is written, a tag renamed or
deleted, a file added or removed; a deleted item's document goes with it (a foreign key). SQL
cannot turn stored HTML into its words, which is why this is not a trigger.

A person's query never reaches FTS5 or tsquery syntax raw: it is folded and cut into the same
words, at most ``MAX_TERMS`` of them, each quoted, the last one a prefix; a query without a
single word matches nothing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from axiom_mcp.data.content import to_text
from axiom_mcp.db.tables import Item, Tag

MAX_TERMS = 16
"""Words of a query that count (more would only make each search slower)."""
MAX_WORD = 100
"""Longer runs of letters are not words anyone searches for (PostgreSQL refuses to index > 2047 bytes)."""
# The columns' order of weight, on both databases: name, tags, files, text (PostgreSQL's setweight
# gives them A, B, C, D, which ts_rank weighs 1.0, 0.4, 0.2, 0.1; SQLite ranks in that order: hits_sql).
BATCH = 500
"""Items whose documents one statement reads or writes."""

_WORD = re.compile(r"[^\W_]+")


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(value: str) -> list[str]:
    """The searchable words of ``value``: folded (accents and case), letters and digits only."""
    return [w for w in _WORD.findall(_fold(value)) if len(w) <= MAX_WORD]


def indexed(value: str) -> str:
    """``value`` as stored in a document: its words, one space apart."""
    return " ".join(words(value))


@dataclass(frozen=True, slots=True)
class Query:
    """A person's search text made safe for the database (``terms`` empty: matches nothing)."""

    terms: tuple[str, ...]

    @classmethod
    def of(cls, raw: str) -> Query:
        return cls(tuple(words(raw)[:MAX_TERMS]))

    @property
    def phrase(self) -> str:
        """The words as a name stores them: a name equal to it is the exact match."""
        return " ".join(self.terms)

    def match(self, dialect: str, *, tags: bool = True) -> str:
        """The FTS5 MATCH or to_tsquery text: every word quoted (words hold no quote), the last a prefix.

        Without ``tags`` the words are not looked for in the tag names (a connection restricted to
        a client profile: an item's other tags are not its to know, so they cannot find it either);
        FTS5 by a column filter, tsquery by the weights of the other columns."""
        last = len(self.terms) - 1
        if dialect == "sqlite":
            words = " ".join(f'"{t}"' + ("*" if n == last else "") for n, t in enumerate(self.terms))
            return words if tags else f"{{name body files}} : ({words})"
        labels = [("*" if n == last else "") + ("" if tags else "ACD") for n in range(len(self.terms))]
        return " & ".join(f"'{t}':{label}" if label else f"'{t}'" for t, label in zip(self.terms, labels, strict=True))

    def rank_args(self, dialect: str, *, tags: bool = True) -> list[str]:
        """The placeholders of ``hits_sql``'s relevance keys, in order."""
        patterns = self.name_patterns()
        columns = (2 if tags else 1) if dialect == "sqlite" else 0
        return [self.phrase, *patterns * (1 + columns)]

    def name_patterns(self) -> list[str]:
        """LIKE patterns over ``' ' || name || ' '``: each word whole, the last as a word's start."""
        last = len(self.terms) - 1
        return [f"% {t} %" if n < last else f"% {t}%" for n, t in enumerate(self.terms)]


def hits_sql(dialect: str, terms: int, *, tags: bool = True) -> tuple[str, str, list[tuple[str, str]]]:
    """(FROM, WHERE, relevance keys) of a search over ``item_search`` aliased ``s``, its item id
    ``s.item_id``. Placeholders: the keys' first (``Query.rank_args``), then FROM's and WHERE's
    together: the query (``Query.match``), the owner.

    The keys, each an (expression, direction): the item whose whole name is the query, then items
    whose name holds every word, then the rest by rank, then the newest document. PostgreSQL's rank
    is ts_rank with the setweight weights (higher is better). SQLite's is which column holds every
    word, in the weights' order (tags, then files, then the text): FTS5's bm25 first counts every
    document holding each word (its IDF), which made a search page cost 3.4-4.6 times a list page
    on 100,000 items (bench/README.md, "Search"), where this costs a look at the few matches.
    Without ``tags`` (a restricted connection) tag names neither match nor rank."""
    named = " AND ".join(["(' ' || s.name || ' ') LIKE ?"] * terms)
    tiers = (f"CASE WHEN s.name = ? THEN 0 WHEN {named} THEN 1 ELSE 2 END", "ASC")
    if dialect == "sqlite":
        holds = [(column, " AND ".join([f"(' ' || s.{column} || ' ') LIKE ?"] * terms))
                 for column in (("tags", "files") if tags else ("files",))]
        columns = "CASE " + " ".join(f"WHEN {test} THEN {n}" for n, (_, test) in enumerate(holds)) + f" ELSE {len(holds)} END"
        # CROSS JOIN keeps the FTS5 index first: started from the owner's documents, SQLite ran
        # the MATCH once per document (minutes on 100,000 items; bench/README.md).
        return (
            "item_search_fts CROSS JOIN item_search AS s ON s.doc = item_search_fts.rowid",
            "item_search_fts MATCH ? AND s.user_id = ?",
            [tiers, (columns, "ASC"), ("s.doc", "DESC")],
        )
    return (
        "item_search AS s CROSS JOIN to_tsquery('simple', ?) AS q",
        "s.doc @@ q AND s.user_id = ?",
        [tiers, ("ts_rank(s.doc, q)", "DESC"), ("s.item_id", "DESC")],
    )


# --- keeping the documents right -----------------------------------------------------------------


def _in(ids: list[str]) -> str:
    return ", ".join(f":i{n}" for n in range(len(ids)))


def _bound(ids: list[str]) -> dict[str, Any]:
    return {f"i{n}": i for n, i in enumerate(ids)}


async def refresh(session: AsyncSession, item_ids: Iterable[str], *, tags_only: bool = False) -> None:
    """Rewrite the documents of these items from what they hold now (in the writer's transaction).

    ``tags_only``: only their tag names changed (a tag renamed or deleted, perhaps on thousands of
    items): the text is not read and converted again. An id that is no item (any more) is
    skipped: its document went with it."""
    ids = sorted(set(item_ids))
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        await (_refresh_tags(session, batch) if tags_only else _refresh(session, batch))


async def _tag_names(session: AsyncSession, where: str, bound: dict[str, Any]) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for item_id, name in (await session.execute(text(
        f"SELECT l.item_id, t.name FROM item_tags AS l JOIN tags AS t ON t.id = l.tag_id WHERE l.item_id IN ({where})"
    ), bound)).all():
        names.setdefault(item_id, []).append(name)
    return names


async def _refresh_tags(session: AsyncSession, ids: list[str]) -> None:
    names = await _tag_names(session, _in(ids), _bound(ids))
    await session.execute(text("UPDATE item_search SET tags = :tags WHERE item_id = :item_id"), [
        {"item_id": item_id, "tags": indexed(" ".join(sorted(names.get(item_id, []))))} for item_id in ids])


async def _refresh(session: AsyncSession, ids: list[str]) -> None:
    where, bound = _in(ids), _bound(ids)
    items = (await session.execute(
        text(f"SELECT id, user_id, name, content, files FROM items WHERE id IN ({where})"), bound)).all()
    if not items:
        return
    tag_names = await _tag_names(session, where, bound)
    file_names: dict[str, list[str]] = {}
    for item_id, name in (await session.execute(
        text(f"SELECT item_id, name FROM files WHERE item_id IN ({where})"), bound)).all():
        file_names.setdefault(item_id, []).append(name)
    rows = [document(item_id, user_id, name, content, listed_names(listed) + file_names.get(item_id, []),
                     tag_names.get(item_id, []))
            for item_id, user_id, name, content, listed in items]
    await session.execute(text(
        "INSERT INTO item_search (item_id, user_id, name, body, tags, files)"
        " VALUES (:item_id, :user_id, :name, :body, :tags, :files)"
        " ON CONFLICT (item_id) DO UPDATE SET user_id = excluded.user_id, name = excluded.name,"
        " body = excluded.body, tags = excluded.tags, files = excluded.files"
    ), rows)


def listed_names(listed: Any) -> list[str]:
    """An item's ``files`` column (a JSON list of names; text from SQLite)."""
    if isinstance(listed, str):
        listed = json.loads(listed or "[]")
    return [str(n) for n in listed or []]


def document(
    item_id: str, user_id: str, name: str, content: str, files: Iterable[str], tags: Iterable[str]
) -> dict[str, str]:
    """The ``item_search`` row of an item (the migration's backfill writes the same)."""
    return {
        "item_id": item_id, "user_id": user_id, "name": indexed(name), "body": indexed(to_text(content or "")),
        "tags": indexed(" ".join(sorted(tags))), "files": indexed(" ".join(files)),
    }


async def items_tagged(session: AsyncSession, tag_id: str) -> list[str]:
    """The items carrying a tag (whose documents change when it is renamed or deleted)."""
    return list((await session.scalars(text("SELECT item_id FROM item_tags WHERE tag_id = :tag"), {"tag": tag_id})))


async def refresh_record(session: AsyncSession, table: Any, record_id: str) -> None:
    """The documents an item or a tag just written (or brought back by undo) changes: the item's own,
    or, for a tag, its items' tag names."""
    if table is Item:
        await refresh(session, [record_id])
    elif table is Tag:
        await refresh(session, await items_tagged(session, record_id), tags_only=True)
