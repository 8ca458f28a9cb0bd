"""Bulk data for the benchmarks, written straight into the tables (not through the API).

SQLite gets SQLAlchemy Core ``executemany`` in chunks (so timestamps and JSON are stored exactly as
the app stores them); PostgreSQL gets ``COPY`` (asyncpg's ``copy_records_to_table``). Filler
access tokens are random 64-hex-digit values, the same shape as the SHA-256 hashes real tokens
leave in ``token_hash``; the tokens the load generators send are real ones (``axat_...``) whose
hashes are stored the same way ``issue_access_token`` stores them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import random
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Column, MetaData, String, Table, Text, bindparam, event, insert, text
from sqlalchemy.schema import CreateIndex, DropIndex
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from axiom_mcp.data.fulltext import document
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.db.reads import asyncpg_dsn
from axiom_mcp.db.fold import name_key
from axiom_mcp.db.tables import Item, OAuthAccessToken, Tag, User, item_tags
from axiom_mcp.security.passwords import hash_password
from axiom_mcp.security.secrets import hash_secret, new_secret
from axiom_mcp.settings import SCOPES


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_CHUNK = 20_000
_BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
_WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar "
    "papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu"
).split()


_BYTE_TO_CHAR = bytes(ord(_ALPHABET[b % len(_ALPHABET)]) for b in range(256))


def _ids(rng: random.Random, count: int) -> list[str]:
    """PocketBase-shaped ids (15 lowercase alphanumerics), made in bulk far faster than ``new_id``.

    (The modulo mapping of random bytes is slightly uneven; unique enough for filler rows.)
    """
    raw = rng.randbytes(15 * count).translate(_BYTE_TO_CHAR).decode("ascii")
    return [raw[i : i + 15] for i in range(0, 15 * count, 15)]


_SEARCH = Table(
    "item_search", MetaData(),
    *(Column(name, String(15)) for name in ("item_id", "user_id")), *(Column(name, Text) for name in ("name", "body", "tags", "files")),
)
"""The columns of the items' search documents the app writes (migration 0016; the rest the database makes)."""


def _table(model: Any) -> Table:
    return model.__table__ if hasattr(model, "__table__") else model


@dataclass
class SeededUser:
    id: str
    email: str
    items: int
    api_tokens: list[str] = field(default_factory=list)
    """Raw tokens whose audience is the REST API (settings.api_resource), every scope."""
    mcp_tokens: list[str] = field(default_factory=list)
    """Raw tokens whose audience is the MCP endpoint (settings.mcp_resource), every scope."""


class Seeder:
    """Writes rows in bulk into one database (a SQLAlchemy async URL, already migrated)."""

    def __init__(self, url: str, *, rng_seed: int = 8) -> None:
        self.url = url
        self.is_postgres = url.startswith("postgresql")
        self.rng = random.Random(rng_seed)
        self._password_hash: str | None = None
        self.filler_users: list[str] = []
        self.tokens = 0
        self.timings: dict[str, float] = {}

    # --- writing ------------------------------------------------------------------------------

    async def _write(self, model: Any, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        table = _table(model)
        if self.is_postgres:
            columns = list(rows[0])
            conn = await asyncpg.connect(asyncpg_dsn(self.url))
            try:
                await conn.copy_records_to_table(
                    table.name, records=[tuple(_pg(row[c]) for c in columns) for row in rows], columns=columns
                )
            finally:
                await conn.close()
            return
        engine = create_async_engine(self.url)
        # Only this loading connection trades durability for speed (a crash mid-seed just means
        # seeding again); the server opens its own connections with the app's own pragmas.
        event.listen(engine.sync_engine, "connect", _fast_load_pragmas)
        # executemany straight to the driver, with each value converted by its column type's own
        # bind processor (so stored timestamps, booleans and JSON match what the app writes) but
        # without SQLAlchemy's per-row parameter handling, which costs more than SQLite's inserts.
        dialect = engine.dialect
        compiled = insert(table).values({c: bindparam(c) for c in rows[0]}).compile(dialect=dialect)
        columns = list(compiled.positiontup or [])
        if sorted(columns) != sorted(rows[0]):
            raise ValueError(f"rows for {table.name} must name every column the insert binds: {columns}")
        statement = str(compiled)
        processors = [_memo(table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]
        try:
            async with engine.begin() as conn:
                for start in range(0, len(rows), _CHUNK):
                    chunk = [
                        tuple(v if p is None else p(v) for v, p in zip((row[c] for c in columns), processors))
                        for row in rows[start : start + _CHUNK]
                    ]
                    await conn.exec_driver_sql(statement, chunk)
        finally:
            await engine.dispose()

    async def _timed_write(self, label: str, model: Any, rows: Sequence[dict[str, Any]]) -> None:
        started = time.perf_counter()
        await self._write(model, rows)
        self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - started

    # --- rows ---------------------------------------------------------------------------------

    def password_hash(self) -> str:
        # One argon2 hash shared by every seeded account: hashing is ~50 ms each and nobody logs in.
        if self._password_hash is None:
            self._password_hash = hash_password("bench password, never used")
        return self._password_hash

    def _user_rows(self, emails: Iterable[str]) -> list[dict[str, Any]]:
        emails = list(emails)
        ids = _ids(self.rng, len(emails))
        return [
            {
                "id": user_id,
                "email": email,
                "name": f"Bench {email.split('@')[0]}",
                "avatar": "",
                "password_hash": self.password_hash(),
                "verified": True,
                "timezone": "",
                "items_version": 0,  # bulk-loaded items: no rank marks exist yet to be outdated
                "created": _BASE_TIME,
                "updated": _BASE_TIME,
            }
            for user_id, email in zip(ids, emails, strict=True)
        ]

    async def add_user(self, email: str, items: int, *, tags: int = 8, tags_per_item: int = 2) -> SeededUser:
        """A user owning ``items`` items (newest first by ``created``), each with some of ``tags`` tags."""
        (row,) = self._user_rows([email])
        await self._timed_write("users", User, [row])
        user_id = row["id"]
        tag_ids = _ids(self.rng, tags)
        names = [f"{_WORDS[i % len(_WORDS)]}-{i}" for i in range(len(tag_ids))]
        tag_rows = [  # a bulk insert sets the name's key itself (the model sets it on assignment only)
            {"id": tag_id, "user_id": user_id, "name": name, "name_key": name_key(name), "created": _BASE_TIME,
             "updated": _BASE_TIME}
            for tag_id, name in zip(tag_ids, names, strict=True)
        ]
        await self._timed_write("tags", Tag, tag_rows)
        # Random ids, inserted in sorted order: the primary-key and link-table indexes then grow at
        # their right edge (a bulk load, minutes faster) and hold the same random keys.
        item_ids = sorted(_ids(self.rng, items))
        item_rows = []
        link_rows = []
        for n, item_id in enumerate(item_ids):
            created = _BASE_TIME + timedelta(seconds=n)
            words = " ".join(self.rng.choices(_WORDS, k=24))
            content = f"<p>{words}</p>"
            item_rows.append(
                {
                    "id": item_id,
                    "user_id": user_id,
                    "name": f"Item {n} {words[:40]}",
                    "content": content,
                    **ITEMS.derived_from("content", content),
                    "files": [],
                    "created": created,
                    "updated": created,
                }
            )
            for k in range(tags_per_item):
                link_rows.append({"item_id": item_id, "tag_id": tag_ids[(n + 3 * k) % tags]})
        await self._timed_write("items", Item, item_rows)
        await self._timed_write("item_tags", item_tags, link_rows)
        # Each item's search document, as the data layer writes it (data/fulltext.py).
        names = [row["name"] for row in tag_rows]
        documents = [
            document(row["id"], user_id, row["name"], row["content"], [],
                     [names[(n + 3 * k) % tags] for k in range(tags_per_item)])
            for n, row in enumerate(item_rows)
        ]
        await self._timed_write("item_search", _SEARCH, documents)
        return SeededUser(id=user_id, email=email, items=items)

    async def add_filler_users(self, count: int) -> None:
        """Accounts that own only filler tokens (spread the token table over many owners)."""
        rows = self._user_rows(f"filler-{len(self.filler_users) + i}@bench.example" for i in range(count))
        await self._timed_write("users", User, rows)
        self.filler_users.extend(r["id"] for r in rows)

    def _token_rows(self, hashes: list[str], owners: list[str], clients: list[str], resource: str) -> list[dict[str, Any]]:
        count = len(hashes)
        ids, grants = _ids(self.rng, count), _ids(self.rng, count)
        scopes = " ".join(SCOPES)
        expires = datetime.now(UTC) + timedelta(days=90)
        return [
            {
                "id": ids[i],
                "token_hash": hashes[i],
                "grant_id": grants[i],
                "client_id": clients[i],
                "user_id": owners[i],
                "scopes": scopes,
                "resource": resource,
                "revoked": False,
                "created": _BASE_TIME,
                "expires": expires,
                "last_used": None,
                "name": "",
            }
            for i in range(count)
        ]

    async def add_user_tokens(self, user: SeededUser, count: int, *, api_resource: str, mcp_resource: str) -> None:
        """``count`` real tokens for the API and ``count`` for the MCP endpoint, kept raw on ``user``."""
        rows = []
        for resource, keep in ((api_resource, user.api_tokens), (mcp_resource, user.mcp_tokens)):
            raws = [new_secret("axat_") for _ in range(count)]
            keep.extend(raws)
            hashes = [hash_secret(raw) for raw in raws]
            rows += self._token_rows(hashes, [user.id] * count, ["bench-client"] * count, resource)
        await self._timed_write("tokens", OAuthAccessToken, rows)
        self.tokens += len(rows)

    async def add_filler_tokens(self, count: int, *, resource: str) -> None:
        """``count`` live tokens of other users (random hashes: nobody holds their raw values)."""
        if not self.filler_users:
            await self.add_filler_users(1000)
        users, clients = self.filler_users, [f"client-{n}" for n in range(50)]
        async with self._secondary_indexes_dropped(OAuthAccessToken, when=count >= 50_000):
            await self._filler_tokens(count, users, clients, resource)

    async def _filler_tokens(self, count: int, users: list[str], clients: list[str], resource: str) -> None:
        # One INSERT ... SELECT makes every row inside the database (random ids and hashes from its
        # own random functions), so a million rows cost seconds, not minutes of Python per row.
        # Timestamps go in as bound values, through the column type, so they are stored exactly
        # as the app stores them.
        started = time.perf_counter()
        engine = create_async_engine(self.url)
        if not self.is_postgres:
            event.listen(engine.sync_engine, "connect", _fast_load_pragmas)
        expires = datetime.now(UTC) + timedelta(days=90)
        params = {"count": count, "owners": len(users), "clients": len(clients), "scopes": " ".join(SCOPES),
                  "resource": resource, "created": _BASE_TIME, "expires": expires}
        columns = "id, token_hash, grant_id, client_id, user_id, scopes, resource, revoked, created, expires, last_used, name"
        if self.is_postgres:
            generate = (
                f"INSERT INTO {_table(OAuthAccessToken).name} ({columns}) "
                "SELECT substr(md5(random()::text || g.i::text), 1, 15), "
                "encode(sha256((random()::text || g.i::text)::bytea), 'hex'), "
                "substr(md5(random()::text), 1, 15), 'client-' || (g.i % :clients), o.id, :scopes, :resource, "
                "false, :created, :expires, NULL, '' "
                "FROM generate_series(0, :count - 1) AS g(i) JOIN bench_owners o ON o.k = g.i % :owners"
            )
        else:
            generate = (
                f"INSERT INTO {_table(OAuthAccessToken).name} ({columns}) "
                "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < :count) "
                "SELECT substr(lower(hex(randomblob(8))), 1, 15), lower(hex(randomblob(32))), "
                "substr(lower(hex(randomblob(8))), 1, 15), 'client-' || (g.i % :clients), o.id, :scopes, "
                ":resource, 0, :created, :expires, NULL, '' "
                "FROM g JOIN bench_owners o ON o.k = g.i % :owners"
            )
        created_type = _table(OAuthAccessToken).c.created.type
        statement = text(generate).bindparams(
            bindparam("created", type_=created_type), bindparam("expires", type_=created_type)
        )
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TEMPORARY TABLE bench_owners (k INTEGER PRIMARY KEY, id VARCHAR(15))"))
                await conn.execute(text("INSERT INTO bench_owners (k, id) VALUES (:k, :id)"),
                                   [{"k": k, "id": user_id} for k, user_id in enumerate(users)])
                await conn.execute(statement, params)
                await conn.execute(text("DROP TABLE bench_owners"))
        finally:
            await engine.dispose()
        self.tokens += count
        self.timings["tokens"] = self.timings.get("tokens", 0.0) + time.perf_counter() - started

    @contextlib.asynccontextmanager
    async def _secondary_indexes_dropped(self, model: Any, *, when: bool) -> AsyncIterator[None]:
        """Load without the table's plain indexes, then build them again from the same definitions.

        The usual bulk-load practice: one sorted index build is several times cheaper than a
        million random-key insertions. On PostgreSQL the primary key and unique constraints are
        dropped and added back too (their definitions read from ``pg_constraint``, so the table
        ends exactly as it was, and adding them back checks every row); SQLite cannot drop them.
        """
        table = _table(model)
        indexes = [ix for ix in table.indexes if not ix.unique] if when else []
        if not indexes:
            yield
            return
        engine = create_async_engine(self.url)
        constraints: list[tuple[str, str]] = []
        try:
            async with engine.begin() as conn:
                if self.is_postgres:
                    found = await conn.execute(
                        text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                             "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u')"),
                        {"t": table.name},
                    )
                    constraints = [(name, definition) for name, definition in found]
                    for name, _ in constraints:
                        await conn.execute(text(f'ALTER TABLE {table.name} DROP CONSTRAINT "{name}"'))
                for index in indexes:
                    await conn.execute(DropIndex(index, if_exists=True))
            yield
            started = time.perf_counter()
            async with engine.begin() as conn:
                for name, definition in constraints:
                    await conn.execute(text(f'ALTER TABLE {table.name} ADD CONSTRAINT "{name}" {definition}'))
                for index in indexes:
                    await conn.execute(CreateIndex(index))
            self.timings["indexes"] = self.timings.get("indexes", 0.0) + time.perf_counter() - started
        finally:
            await engine.dispose()

    async def analyze(self) -> None:
        """``VACUUM ANALYZE`` on PostgreSQL, as autovacuum does soon after a bulk load.

        Without it a freshly loaded table has no visibility map, so index-only scans (counts, a
        page's ids) visit the heap for every row; that is a state of the first minutes, not of a
        running deployment. (SQLite is left as a deployment leaves it: no ANALYZE.)
        """
        if not self.is_postgres:
            return
        started = time.perf_counter()
        conn = await asyncpg.connect(asyncpg_dsn(self.url))
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
        self.timings["analyze"] = self.timings.get("analyze", 0.0) + time.perf_counter() - started


def _memo(processor: Any) -> Any:
    """A bind processor that converts each distinct (hashable) value once: filler rows repeat theirs."""
    if processor is None:
        return None
    cached = functools.lru_cache(maxsize=1024)(processor)

    def process(value: Any) -> Any:
        return processor(value) if isinstance(value, list | dict) else cached(value)

    return process


def _fast_load_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB: random-key index inserts stay in memory
    cursor.close()


def _pg(value: Any) -> Any:
    # COPY takes Python values per column type; the JSON column (items.files) wants its text.
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


async def count_rows(engine: AsyncEngine, model: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {_table(model).name}"))).scalar_one())

