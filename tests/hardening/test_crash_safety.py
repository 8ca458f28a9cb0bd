"""Crash safety: SIGKILL ``axiom serve`` in the middle of a burst of writes, restart it, and check.

Guarantees, on SQLite (WAL) and on PostgreSQL:
- every write the server acknowledged (201 with the record) is there after the restart, intact;
- no record is torn: whatever is in the database is exactly one of the writes that were sent;
- the database opens cleanly (SQLite ``PRAGMA integrity_check`` is ``ok``; PostgreSQL's B-tree
  indexes pass ``amcheck``) and takes writes again; the bearer token issued before the crash works.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.hardening.process_server import ServerProcess
from tests.support.databases import database

pytestmark = pytest.mark.slow

WRITERS = 24
"""Concurrent clients posting items."""
KILL_AFTER = 120
"""Acknowledged writes before the kill; the writers are still going full speed when it lands."""
CONTENT = "x" * 1500
"""Enough text per item that a torn write would show."""


@dataclass
class Burst:
    acknowledged: dict[str, tuple[str, str]] = field(default_factory=dict)
    """id -> (name, content) of every write answered 201."""
    sent: dict[str, str] = field(default_factory=dict)
    """name -> content of every write attempted."""
    in_flight: int = 0
    in_flight_at_kill: int = -1
    failures_before_kill: list[str] = field(default_factory=list)


async def _signup(client: httpx.AsyncClient, base: str) -> str:
    credentials = {"email": "crash@example.com", "password": "a long enough password"}
    signup = await client.post(f"{base}/api/v1/auth/signup", json=credentials)
    assert signup.status_code == 201, signup.text
    login = await client.post(f"{base}/api/v1/auth/login", json=credentials)
    assert login.status_code == 200, login.text
    return str(login.json()["token"])


async def _writer(client: httpx.AsyncClient, base: str, token: str, number: int, burst: Burst, killed: asyncio.Event) -> None:
    n = 0
    while not killed.is_set():
        name = f"crash-{number}-{n}"
        content = f"{name}:{CONTENT}"
        burst.sent[name] = content
        n += 1
        burst.in_flight += 1
        try:
            response = await client.post(
                f"{base}/api/v1/user/items",
                json={"name": name, "content": content},
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError:
            return  # the server is gone: this write was never acknowledged
        finally:
            burst.in_flight -= 1
        if response.status_code == 201:
            body = response.json()
            burst.acknowledged[body["id"]] = (name, content)
        elif not killed.is_set():
            burst.failures_before_kill.append(f"{response.status_code} {response.text[:200]}")


async def _burst_then_kill(server: ServerProcess, token: str) -> Burst:
    burst = Burst()
    killed = asyncio.Event()
    limits = httpx.Limits(max_connections=WRITERS, max_keepalive_connections=WRITERS)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        writers = [
            asyncio.create_task(_writer(client, server.auth_url, token, i, burst, killed)) for i in range(WRITERS)
        ]
        while len(burst.acknowledged) < KILL_AFTER:
            if all(w.done() for w in writers):
                break
            await asyncio.sleep(0.002)
        burst.in_flight_at_kill = burst.in_flight
        await server.kill9()
        killed.set()
        await asyncio.gather(*writers)
    return burst


async def _all_items(client: httpx.AsyncClient, base: str, token: str) -> dict[str, dict[str, object]]:
    items: dict[str, dict[str, object]] = {}
    page = 1
    while True:
        response = await client.get(
            f"{base}/api/v1/user/items",
            params={"page": page, "perPage": 100},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items.update({item["id"]: item for item in body["items"]})
        if page >= body["totalPages"]:
            return items
        page += 1


def _sqlite_integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


async def _postgres_indexes_check(sqlalchemy_url: str) -> int:
    """Run amcheck's ``bt_index_check`` on every B-tree index of the schema; returns how many."""
    conn = await asyncpg.connect(sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = await conn.fetch(
            "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam "
            "WHERE n.nspname = 'public' AND a.amname = 'btree'"
        )
        for index in indexes:
            await conn.execute("SELECT bt_index_check($1::oid::regclass, true)", index["oid"])
        return len(indexes)
    finally:
        await conn.close()


async def test_acknowledged_writes_survive_kill_9(
    db_kind: str, tmp_path: Path, server_processes: Callable[..., ServerProcess]
) -> None:
    async with database(db_kind, tmp_path) as url:
        server = server_processes(tmp_path, url, only="auth")
        server.start()
        await server.wait_ready(f"{server.auth_url}/openapi.json")
        async with httpx.AsyncClient(timeout=30) as client:
            token = await _signup(client, server.auth_url)

        burst = await _burst_then_kill(server, token)

        assert not burst.failures_before_kill, burst.failures_before_kill[:5]
        assert len(burst.acknowledged) >= KILL_AFTER
        assert burst.in_flight_at_kill > 0, "the kill must land while writes are in flight"

        if db_kind == "sqlite":
            assert _sqlite_integrity(tmp_path / "axiom.db") == "ok"
        else:
            assert await _postgres_indexes_check(url) > 0

        server.start()
        await server.wait_ready(f"{server.auth_url}/openapi.json")
        async with httpx.AsyncClient(timeout=30) as client:
            stored = await _all_items(client, server.auth_url, token)
            missing = sorted(set(burst.acknowledged) - set(stored))
            assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
            for item_id, (name, content) in burst.acknowledged.items():
                assert (stored[item_id]["name"], stored[item_id]["content"]) == (name, content)
            for item in stored.values():
                assert burst.sent.get(str(item["name"])) == item["content"], f"torn or unknown record {item['id']}"

            after = await client.post(
                f"{server.auth_url}/api/v1/user/items",
                json={"name": "after the crash"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert after.status_code == 201, after.text
        assert await server.stop() == 0, server.log()
