"""The read pool: plain driver connections for the hot list reads, beside the SQLAlchemy engine.

A page read through an ``AsyncSession`` costs ~30-40x what the database spends on it: aiosqlite
hops to its thread once per cursor operation (~10 per call), the pool checks out and resets a
connection, every row goes through SQLAlchemy's type processing. ``Reads.fetch`` runs one
statement and hands back the driver's rows, with as little in between as each driver allows:

- SQLite file databases: ``sqlite3`` connections, one per worker thread of a small executor, so a
  call is ONE thread hop for execute + fetchall. They are read-only (``query_only``), wait for a
  writer (``busy_timeout``) and know ``axiom_fold``; WAL (set by the engine, kept in the file) lets
  them read beside the writer. In autocommit mode each statement sees the latest commit.
- an SQLite database another connection cannot open (in-memory, ``file:`` URIs): the statement
  runs on the SQLAlchemy engine (``exec_driver_sql``), still without SQLAlchemy's type processing.
- PostgreSQL: an asyncpg pool, opened on first use on the running event loop, with asyncpg's
  statement cache, sessions that are read-only by default and no reset round trip on release.

SQL is written once with ``?`` placeholders; for PostgreSQL it is rewritten (once, cached) to
``$1..$n``. Rows come back as the driver gives them: SQLite timestamps as text, PostgreSQL's as
aware datetimes, JSON as text (see ``data/records.py``).

Every statement has a time limit (``settings.statement_timeout``), so one heavy list or search cannot
hold a read connection for long: PostgreSQL's ``statement_timeout``, set on the pool's connections,
and on SQLite a progress handler that interrupts a statement past its deadline. Either way the
caller gets ``QueryTimedOut``.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from axiom_mcp.db.fold import FOLD, fold
from axiom_mcp.errors import QueryTimedOut

Row = Sequence[Any]

SQLITE_THREADS = 2
"""Worker threads (each with its own connection). Two overlap one read's Python work with
another's time in SQLite (which releases the GIL); more only contend for the GIL. Measured with
bench/run --quick --only rest on 2 CPUs: 1 thread 862/s, 2 threads 837-973/s, 4 threads 777/s."""

PG_POOL_MAX = 10
"""asyncpg connections per process. The engine keeps its own pool for writes and sessions."""

PROGRESS_STEPS = 1000
"""SQLite virtual-machine steps between two looks at a statement's deadline."""


class ReadPoolClosed(RuntimeError):
    """A read after ``Database.close()``."""


@functools.lru_cache(maxsize=256)
def dollar_params(sql: str) -> str:
    """``sql`` with each ``?`` placeholder (outside quotes) numbered for PostgreSQL: ``$1``, ``$2``..."""
    out: list[str] = []
    number = 0
    quote_char: str | None = None
    for char in sql:
        if quote_char is not None:
            if char == quote_char:
                quote_char = None
        elif char in ("'", '"'):
            quote_char = char
        elif char == "?":
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    return "".join(out)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The plain ``postgresql://`` DSN asyncpg takes, from the engine's SQLAlchemy URL."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_file(sqlalchemy_url: str) -> Path | None:
    """The file of an SQLite database another connection can open (None: in-memory or a URI)."""
    database = make_url(sqlalchemy_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


class Reads:
    """Runs one read-only statement and returns its rows; one per ``Database``."""

    dialect: str

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        raise NotImplementedError

    async def close(self) -> None:
        """Release the connections (idempotent)."""


class SqliteReads(Reads):
    dialect = "sqlite"

    def __init__(self, engine: AsyncEngine, path: Path, timeout: float, threads: int = SQLITE_THREADS) -> None:
        self._engine = engine
        self._path = path
        self._timeout = timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = ThreadPoolExecutor(threads, thread_name_prefix="axiom-read")
        self._ready = False
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            # mode=rw: never create the file (a missing database is an error, not a new empty one).
            connection = sqlite3.connect(
                f"file:{quote(str(self._path))}?mode=rw", uri=True, isolation_level=None,
                check_same_thread=False, timeout=10,
            )
            connection.execute("PRAGMA query_only=ON")
            connection.execute("PRAGMA busy_timeout=10000")
            connection.create_function(FOLD, 1, fold, deterministic=True)
            connection.set_progress_handler(self._past_deadline, PROGRESS_STEPS)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _past_deadline(self) -> bool:
        """SQLite's progress handler: a true answer interrupts the running statement."""
        return time.monotonic() > self._local.deadline

    def _run(self, sql: str, params: Sequence[Any]) -> list[Row]:
        connection = self._connection()
        self._local.deadline = time.monotonic() + self._timeout
        try:
            return connection.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if time.monotonic() > self._local.deadline and str(exc) == "interrupted":
                raise QueryTimedOut() from exc
            raise

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        if self._executor is None:
            raise ReadPoolClosed("the database is closed")
        if not self._ready:
            # Let the engine open the file first: it sets WAL mode (kept in the file), which
            # must happen before readers hold it open.
            async with self._engine.connect():
                pass
            self._ready = True
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._run, sql, params)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()


class EngineReads(Reads):
    """An SQLite database only the engine can open: the statement runs on one of its connections."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.dialect = engine.dialect.name

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        async with self._engine.connect() as connection:
            return list((await connection.exec_driver_sql(sql, tuple(params))).all())


async def _no_reset(_connection: asyncpg.Connection) -> None:
    """Release without a round trip: these connections only ever run single SELECTs (no SET, no
    LISTEN, no advisory locks, no cursors), and asyncpg still rolls back a transaction left open."""


class PostgresReads(Reads):
    dialect = "postgresql"

    def __init__(self, url: str, timeout: float, max_size: int = PG_POOL_MAX) -> None:
        self._dsn = asyncpg_dsn(url)
        self._timeout_ms = max(1, round(timeout * 1000))
        self._max_size = max_size
        # One pool per event loop: asyncpg connections belong to the loop that opened them (the
        # app has one loop; a test or tool may use a Database from another).
        self._pools: dict[asyncio.AbstractEventLoop, asyncpg.Pool] = {}
        self._opening: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._closed = False

    async def _pool(self) -> asyncpg.Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is not None:
            return pool
        if self._closed:
            raise ReadPoolClosed("the database is closed")
        lock = self._opening.setdefault(loop, asyncio.Lock())
        async with lock:
            pool = self._pools.get(loop)
            if pool is None:
                pool = await asyncpg.create_pool(
                    self._dsn, min_size=0, max_size=self._max_size, reset=_no_reset,
                    server_settings={
                        "default_transaction_read_only": "on",
                        "application_name": "axiom-reads",
                        "statement_timeout": str(self._timeout_ms),
                    },
                )
                self._pools[loop] = pool
        return pool

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Row]:
        pool = self._pools.get(asyncio.get_running_loop()) or await self._pool()
        async with pool.acquire() as connection:
            try:
                return await connection.fetch(dollar_params(sql), *params)
            except asyncpg.QueryCanceledError as exc:
                raise QueryTimedOut() from exc

    async def close(self) -> None:
        self._closed = True
        pools, self._pools = self._pools, {}
        self._opening.clear()
        current = asyncio.get_running_loop()
        for loop, pool in pools.items():
            if loop is current:
                await pool.close()
            else:  # another loop's connections cannot be awaited from here
                pool.terminate()


def create_reads(engine: AsyncEngine, url: str, timeout: float) -> Reads:
    """The read pool of ``engine``'s database; ``timeout``: the longest a statement may run, in seconds."""
    if engine.dialect.name == "postgresql":
        return PostgresReads(url, timeout)
    path = sqlite_file(url) if engine.dialect.name == "sqlite" else None
    return SqliteReads(engine, path, timeout) if path is not None else EngineReads(engine)
